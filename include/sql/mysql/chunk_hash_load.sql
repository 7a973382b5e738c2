-- A chunk's (licence_no, row_hash) pairs from a file (staging.py writes it). {path} is replaced by
-- a file name the process created itself: MariaDB takes no bound value there.
-- CHARACTER SET binary: why in ledger_load.sql
LOAD DATA LOCAL INFILE '{path}' INTO TABLE chunk_hash CHARACTER SET binary
FIELDS TERMINATED BY '\t' ESCAPED BY '\\' LINES TERMINATED BY '\n'
(licence_no, row_hash)
