-- A run's sign of life, from a connection of its own (outside the run's transaction). A task's
-- retry of a run that failed carries on under the same run: it is running again.
UPDATE sync_run SET heartbeat_at = :now, status = 'running', finished_at = NULL, error = NULL
WHERE run_id = :run_id AND status IN ('running', 'failed')
