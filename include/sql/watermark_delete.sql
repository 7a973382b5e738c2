-- A department's watermark is forgotten when it retires: should it return, its first run is full.
DELETE FROM sync_watermark WHERE dept_code = :dept_code
