INSERT INTO sync_run (run_id, dept_code, mode, status, started_at, watermark_from)
VALUES (:run_id, :dept_code, :mode, 'running', :now, :watermark_from)
