-- A department's sync runs that started in [:day_start, :day_end), in order.
SELECT run_no, run_id, mode, status, started_at, finished_at, rows_read, rows_valid,
       rows_rejected, inserted, updated, renewed, vanished, counts_by_rule
FROM sync_run
WHERE dept_code = :dept AND started_at >= :day_start AND started_at < :day_end
ORDER BY run_no
