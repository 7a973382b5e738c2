-- Warnings this run found that are not open yet: opened, since now; only on licences the ledger
-- holds (the winner of a duplicated number may not be loaded yet).
INSERT INTO licence_warning (dept_code, licence_no, rule, column_name, message, first_run_id, first_seen_at,
                             last_run_id, last_seen_at, open_key)
SELECT s.dept_code, s.licence_no, s.rule, s.column_name, MAX(s.message), :run_id, :now, :run_id, :now,
       s.dept_code || '|' || s.licence_no || '|' || s.rule || '|' || s.column_name
FROM staging_warning s
WHERE s.run_id = :run_id AND s.dept_code = :dept_code
  AND EXISTS (SELECT 1 FROM ledger l WHERE l.dept_code = s.dept_code AND l.licence_no = s.licence_no)
  AND NOT EXISTS (SELECT 1 FROM licence_warning w
                  WHERE w.open_key = s.dept_code || '|' || s.licence_no || '|' || s.rule || '|' || s.column_name)
GROUP BY s.dept_code, s.licence_no, s.rule, s.column_name
