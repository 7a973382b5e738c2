-- Keys the run learned something about without a full row, from a file (staging.py writes it):
-- kind 'vanished', licence numbers a full reconciliation no longer finds; 'fixed_key', source keys
-- of quarantined rows now valid. {path} is replaced by a file name the process created itself:
-- MariaDB takes no bound value there.
-- CHARACTER SET binary: why in ledger_load.sql
LOAD DATA LOCAL INFILE '{path}' INTO TABLE staging_key CHARACTER SET binary
FIELDS TERMINATED BY '\t' ESCAPED BY '\\' LINES TERMINATED BY '\n'
(licence_no, kind)
SET run_id = :run_id, dept_code = :dept_code
