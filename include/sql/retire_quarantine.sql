-- Open quarantine entries of a retired department: no run will see their rows again.
UPDATE quarantine SET resolved_at = :now, resolved_run_id = :run_id, open_key = NULL, resolution = 'retired'
WHERE dept_code = :dept_code AND resolved_at IS NULL
