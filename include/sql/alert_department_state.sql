-- Per department: when its last good sync finished, and its latest finished run (a run still
-- going says nothing yet): what the alerts and holds are decided from.
SELECT d.code, d.name,
       (SELECT MAX(g.finished_at) FROM sync_run g WHERE g.dept_code = d.code AND g.status = 'success'
          AND g.mode IN ('full', 'incremental')) AS last_success,
       s.run_id, s.mode, s.status, s.finished_at, s.error
FROM department d
LEFT JOIN sync_run s ON s.dept_code = d.code AND s.run_no = (
    SELECT MAX(s2.run_no) FROM sync_run s2 WHERE s2.dept_code = d.code AND s2.status IN ('success', 'failed'))
ORDER BY d.code
