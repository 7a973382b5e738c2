-- Per department: when its last successful sync finished, and how many runs failed since.
SELECT d.code, d.name,
       (SELECT MAX(s.finished_at) FROM sync_run s WHERE s.dept_code = d.code AND s.status = 'success'
          AND s.mode IN ('full', 'incremental')) AS last_success,
       (SELECT COUNT(*) FROM sync_run s WHERE s.dept_code = d.code AND s.status = 'failed'
          AND s.started_at > COALESCE((SELECT MAX(s2.finished_at) FROM sync_run s2 WHERE s2.dept_code = d.code
                                         AND s2.status = 'success'), '1900-01-01')) AS failed_since,
       (SELECT s.mode FROM sync_run s WHERE s.dept_code = d.code ORDER BY s.run_no DESC LIMIT 1) AS last_mode
FROM department d
ORDER BY d.code
