-- SQLite numbers a run itself (one writer at a time): the next run_no (MariaDB's AUTO_INCREMENT).
INSERT INTO sync_run (run_id, dept_code, mode, status, started_at, watermark_from, run_no)
VALUES (:run_id, :dept_code, :mode, 'running', :now, :watermark_from,
        (SELECT COALESCE(MAX(run_no), 0) + 1 FROM sync_run))
