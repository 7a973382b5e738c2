-- Advanced only inside the run's committing transaction; never moves back.
INSERT INTO sync_watermark (dept_code, watermark, source_read_at, run_id, updated_at)
VALUES (:dept_code, :watermark, :source_read_at, :run_id, :now)
ON DUPLICATE KEY UPDATE watermark = GREATEST(watermark, VALUES(watermark)),
    source_read_at = VALUES(source_read_at), run_id = VALUES(run_id), updated_at = VALUES(updated_at)
