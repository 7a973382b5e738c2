-- A department's renewal applications from a tab-separated file (staging.py writes it). {path}
-- is replaced by a file name the process created itself: MariaDB takes no bound value there.
-- CHARACTER SET binary: why in ledger_load.sql
LOAD DATA LOCAL INFILE '{path}' INTO TABLE staging_renewal CHARACTER SET binary
FIELDS TERMINATED BY '\t' ESCAPED BY '\\' LINES TERMINATED BY '\n'
(licence_no, applied_on)
SET run_id = :run_id, dept_code = :dept_code
