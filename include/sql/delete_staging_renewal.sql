-- Staged rows of one run are dropped once published, or before the run is retried.
DELETE FROM staging_renewal WHERE run_id = :run_id AND dept_code = :dept_code
