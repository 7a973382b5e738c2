-- Licences the ledger has never held.
INSERT INTO ledger (dept_code, licence_no, licence_name, holder_name, holder_type, holder_code, contact_name, contact_id_no, contact_mobile, issue_date, expiry_date, status, renewal_applied_on, source_updated_at, first_reminder_on, second_reminder_on, row_hash, contact_id_digest, holder_code_digest, source_hash, cycle, created_run, updated_run, created_at, updated_at)
SELECT s.dept_code, s.licence_no, s.licence_name, s.holder_name, s.holder_type, s.holder_code, s.contact_name, s.contact_id_no, s.contact_mobile, s.issue_date, s.expiry_date, s.status, s.renewal_applied_on, s.source_updated_at, s.first_reminder_on, s.second_reminder_on, s.row_hash, s.contact_id_digest, s.holder_code_digest, s.source_hash, 1, :run_id, :run_id, :now, :now
FROM staging_licence s
LEFT JOIN ledger l ON l.dept_code = s.dept_code AND l.licence_no = s.licence_no
WHERE s.run_id = :run_id AND s.dept_code = :dept_code AND l.id IS NULL
