UPDATE sync_run SET status = 'failed', finished_at = :now, error = :error WHERE run_id = :run_id
