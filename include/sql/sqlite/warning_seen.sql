-- Warnings still open that this run found again: refreshed (message, last seen).
UPDATE licence_warning SET message = s.message, last_run_id = :run_id, last_seen_at = :now
FROM staging_warning s
WHERE s.run_id = :run_id AND s.dept_code = :dept_code
  AND licence_warning.open_key = s.dept_code || '|' || s.licence_no || '|' || s.rule || '|' || s.column_name
