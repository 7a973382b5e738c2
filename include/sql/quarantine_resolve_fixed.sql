-- A row fixed at the source leaves quarantine when it is next seen valid.
UPDATE quarantine SET resolved_at = :now, resolved_run_id = :run_id, open_key = NULL
WHERE dept_code = :dept_code AND resolved_at IS NULL AND run_id <> :run_id
  AND licence_no IN (SELECT s.licence_no FROM staging_licence s
                     WHERE s.run_id = :run_id AND s.dept_code = :dept_code)
