-- Advanced only inside the run's committing transaction.
INSERT INTO sync_watermark (dept_code, watermark, run_id, updated_at)
VALUES (:dept_code, :watermark, :run_id, :now)
ON DUPLICATE KEY UPDATE watermark = GREATEST(watermark, VALUES(watermark)),
    run_id = VALUES(run_id), updated_at = VALUES(updated_at)
