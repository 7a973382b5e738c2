-- A retried run starts over: its counts are those of the attempt that commits.
UPDATE sync_run SET mode = :mode, status = 'running', started_at = :now, finished_at = NULL,
    watermark_from = :watermark_from, error = NULL, heartbeat_at = NULL
WHERE run_id = :run_id
