-- Full reconciliation: an open quarantine entry the source no longer returns at all (deleted there,
-- or left out by the extract's WHERE).
UPDATE quarantine SET resolved_at = :now, resolved_run_id = :run_id, open_key = NULL, resolution = 'gone'
WHERE dept_code = :dept_code AND resolved_at IS NULL AND run_id <> :run_id
  AND (licence_no IS NULL
       OR licence_no NOT IN (SELECT s.licence_no FROM staging_licence s
                             WHERE s.run_id = :run_id AND s.dept_code = :dept_code))
