SELECT watermark FROM sync_watermark WHERE dept_code = :dept_code
