-- Checked again: a run that beat since it was found stale is alive and stays running.
UPDATE sync_run SET status = 'failed', finished_at = :now, error = :error
WHERE run_id = :stale_run_id AND status = 'running' AND COALESCE(heartbeat_at, started_at) < :stale_before
