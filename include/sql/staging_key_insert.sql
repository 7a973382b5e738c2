-- A key the run learned something about without a full row (kind 'vanished' or 'fixed_key').
INSERT INTO staging_key (run_id, dept_code, licence_no, kind)
VALUES (:run_id, :dept_code, :licence_no, :kind)
