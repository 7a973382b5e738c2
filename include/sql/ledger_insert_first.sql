-- A department's first load: the ledger holds none of its licences, so every staged row is new.
-- ledger_insert_new.sql's anti-join reads the table it inserts into, which makes MariaDB copy the
-- whole result to a temporary table first (about 1 s of a 1,000,000-row first load). Another
-- writer of the department cannot slip rows in after the check: in MariaDB the transaction's
-- ledger_update_changed.sql has locked the department's keys until it commits (SQLite has one
-- writer at a time); and the unique key would refuse such a row, failing the run.
INSERT INTO ledger (dept_code, licence_no, licence_name, holder_name, holder_type, holder_code, contact_name, contact_id_no, contact_mobile, issue_date, expiry_date, status, renewal_applied_on, source_updated_at, first_reminder_on, second_reminder_on, row_hash, cycle, created_run, updated_run, created_at, updated_at)
SELECT s.dept_code, s.licence_no, s.licence_name, s.holder_name, s.holder_type, s.holder_code, s.contact_name, s.contact_id_no, s.contact_mobile, s.issue_date, s.expiry_date, s.status, s.renewal_applied_on, s.source_updated_at, s.first_reminder_on, s.second_reminder_on, s.row_hash, 1, :run_id, :run_id, :now, :now
FROM staging_licence s
WHERE s.run_id = :run_id AND s.dept_code = :dept_code
