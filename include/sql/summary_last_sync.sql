-- The department's latest sync run (run_no: in the order runs started, to the run).
SELECT run_id, mode, status, rows_read, rows_valid, rows_rejected, rows_warned, inserted, updated, renewed,
       vanished, counts_by_rule, error, finished_at
FROM sync_run WHERE dept_code = :dept_code
ORDER BY run_no DESC LIMIT 1
