-- A chunk of changed/new valid rows from a tab-separated file (staging.py writes it). {path} is
-- replaced by a file name the process created itself: MariaDB takes no bound value there.
-- CHARACTER SET binary: why in ledger_load.sql
LOAD DATA LOCAL INFILE '{path}' INTO TABLE staging_licence CHARACTER SET binary
FIELDS TERMINATED BY '\t' ESCAPED BY '\\' LINES TERMINATED BY '\n'
(licence_no, licence_name, holder_name, holder_type, holder_code, contact_name, contact_id_no, contact_mobile, issue_date, expiry_date, status, renewal_applied_on, source_updated_at, first_reminder_on, second_reminder_on, row_hash, contact_id_digest, holder_code_digest, source_hash)
SET run_id = :run_id, dept_code = :dept_code
