-- Staged rows of one run are dropped once published. Through the run's index: runs of other
-- departments, uncommitted in their own transactions, hold their staged rows locked, and a scan
-- of the table (what MariaDB chooses while its statistics say the table is small) waits for them.
DELETE s FROM staging_licence s FORCE INDEX (ix_staging_run) WHERE s.run_id = :run_id AND s.dept_code = :dept_code
