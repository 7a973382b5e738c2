-- Rejected rows: one open quarantine entry per record, refreshed with the latest run's reasons.
INSERT INTO quarantine (dept_code, record_key, licence_no, source_key, source_row, rules, reasons, raw_values,
                        expiry_date, licence_name, first_run_id, run_id, first_seen_at, last_seen_at, open_key)
SELECT r.dept_code, r.record_key, r.licence_no, r.source_key, r.source_row, r.rules, r.reasons, r.raw_values,
       r.expiry_date, r.licence_name,
       :run_id, :run_id, :now, :now, CONCAT(r.dept_code, '|', r.record_key)
FROM staging_rejection r
WHERE r.run_id = :run_id AND r.dept_code = :dept_code
ON DUPLICATE KEY UPDATE source_key = VALUES(source_key), source_row = VALUES(source_row), rules = VALUES(rules),
    reasons = VALUES(reasons), raw_values = VALUES(raw_values),
    expiry_date = VALUES(expiry_date), licence_name = VALUES(licence_name), run_id = VALUES(run_id),
    last_seen_at = VALUES(last_seen_at)
