-- A loaded licence's warning (a rule of severity WARN it failed); published to licence_warning
-- with the merge.
INSERT INTO staging_warning (run_id, dept_code, licence_no, rule, column_name, message)
VALUES (:run_id, :dept_code, :licence_no, :rule, :column_name, :message)
