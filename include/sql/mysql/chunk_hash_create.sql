-- A chunk's licence numbers and row hashes, compared with the ledger on the server (per session).
CREATE TEMPORARY TABLE chunk_hash (
    licence_no VARCHAR(64) NOT NULL PRIMARY KEY,
    row_hash CHAR(32) CHARACTER SET ascii NOT NULL
) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin
