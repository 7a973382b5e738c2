-- Staged rows of one run are dropped once published, through the run's index (see
-- delete_staging_rejection.sql: a scan would wait for other departments' uncommitted rows).
DELETE s FROM staging_warning s FORCE INDEX (ix_staging_warning_run) WHERE s.run_id = :run_id AND s.dept_code = :dept_code
