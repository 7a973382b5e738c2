-- A row fixed at the source leaves quarantine when it is next seen valid: under its licence
-- number, or (a department with a split_column) under its source key, whatever number it now has.
UPDATE quarantine SET resolved_at = :now, resolved_run_id = :run_id, open_key = NULL, resolution = 'fixed'
WHERE dept_code = :dept_code AND resolved_at IS NULL AND run_id <> :run_id
  AND (licence_no IN (SELECT s.licence_no FROM staging_licence s
                      WHERE s.run_id = :run_id AND s.dept_code = :dept_code)
       OR source_key IN (SELECT k.licence_no FROM staging_key k
                         WHERE k.run_id = :run_id AND k.dept_code = :dept_code AND k.kind = 'fixed_key'))
