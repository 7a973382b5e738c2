-- Rejected rows: one open quarantine entry per record, refreshed with the latest run's reasons.
INSERT INTO quarantine (dept_code, record_key, licence_no, source_key, source_row, rules, reasons, raw_values,
                        expiry_date, licence_name, first_run_id, run_id, first_seen_at, last_seen_at, open_key)
SELECT r.dept_code, r.record_key, r.licence_no, r.source_key, r.source_row, r.rules, r.reasons, r.raw_values,
       r.expiry_date, r.licence_name,
       :run_id, :run_id, :now, :now, r.dept_code || '|' || r.record_key
FROM staging_rejection r
WHERE r.run_id = :run_id AND r.dept_code = :dept_code
ON CONFLICT (open_key) DO UPDATE SET source_key = excluded.source_key, source_row = excluded.source_row, rules = excluded.rules,
    reasons = excluded.reasons, raw_values = excluded.raw_values,
    expiry_date = excluded.expiry_date, licence_name = excluded.licence_name, run_id = excluded.run_id,
    last_seen_at = excluded.last_seen_at
