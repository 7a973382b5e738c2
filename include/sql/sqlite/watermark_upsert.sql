-- Advanced only inside the run's committing transaction.
INSERT INTO sync_watermark (dept_code, watermark, run_id, updated_at)
VALUES (:dept_code, :watermark, :run_id, :now)
ON CONFLICT (dept_code) DO UPDATE SET watermark = MAX(watermark, excluded.watermark),
    run_id = excluded.run_id, updated_at = excluded.updated_at
