-- A run that read nothing new still moves the moment the next run's lookback counts back from.
UPDATE sync_watermark SET source_read_at = :source_read_at, run_id = :run_id, updated_at = :now
WHERE dept_code = :dept_code
