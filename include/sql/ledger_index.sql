-- A department's licences as the ledger holds them, for a full run to compare its rows with
-- (staging.LedgerIndex): the row's hash, and whether the licence is gone from the source.
SELECT licence_no, row_hash, CASE WHEN vanished_at IS NULL THEN 0 ELSE 1 END FROM ledger
WHERE dept_code = :dept_code
