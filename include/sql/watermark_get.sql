SELECT watermark, source_read_at FROM sync_watermark WHERE dept_code = :dept_code
