-- Each department's latest sync run, and when its last successful one finished.
SELECT s.dept_code, s.run_id, s.mode, s.status, s.started_at, s.finished_at, s.rows_read,
       s.rows_valid, s.rows_rejected, s.counts_by_rule, s.error,
       (SELECT MAX(g.finished_at) FROM sync_run g
        WHERE g.dept_code = s.dept_code AND g.status = 'success') AS last_success_at
FROM sync_run s
JOIN (SELECT dept_code, MAX(run_no) AS run_no FROM sync_run GROUP BY dept_code) t
  ON t.dept_code = s.dept_code AND t.run_no = s.run_no
