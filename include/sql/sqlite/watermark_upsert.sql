-- Advanced only inside the run's committing transaction; never moves back.
INSERT INTO sync_watermark (dept_code, watermark, source_read_at, run_id, updated_at)
VALUES (:dept_code, :watermark, :source_read_at, :run_id, :now)
ON CONFLICT (dept_code) DO UPDATE SET watermark = MAX(watermark, excluded.watermark),
    source_read_at = excluded.source_read_at, run_id = excluded.run_id, updated_at = excluded.updated_at
