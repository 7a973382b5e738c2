-- A renewal application of the department's side table (source.renewals), merged with the run.
INSERT INTO staging_renewal (run_id, dept_code, licence_no, applied_on)
VALUES (:run_id, :dept_code, :licence_no, :applied_on)
