-- One rejected source row with every rule it failed; published to quarantine with the merge.
INSERT INTO staging_rejection (run_id, dept_code, record_key, licence_no, source_key, source_row, rules,
                               reasons, raw_values, expiry_date, licence_name)
VALUES (:run_id, :dept_code, :record_key, :licence_no, :source_key, :source_row, :rules, :reasons,
        :raw_values, :expiry_date, :licence_name)
