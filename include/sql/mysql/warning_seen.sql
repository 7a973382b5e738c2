-- Warnings still open that this run found again: refreshed (message, last seen).
UPDATE staging_warning s FORCE INDEX (ix_staging_warning_run)
STRAIGHT_JOIN licence_warning w ON w.open_key = CONCAT(s.dept_code, '|', s.licence_no, '|', s.rule, '|', s.column_name)
SET w.message = s.message, w.last_run_id = :run_id, w.last_seen_at = :now
WHERE s.run_id = :run_id AND s.dept_code = :dept_code
