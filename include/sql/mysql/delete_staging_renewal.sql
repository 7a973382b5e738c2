-- Staged rows of one run are dropped once published, through the run's index (see
-- delete_staging_rejection.sql).
DELETE s FROM staging_renewal s FORCE INDEX (ix_staging_renewal_run) WHERE s.run_id = :run_id AND s.dept_code = :dept_code
