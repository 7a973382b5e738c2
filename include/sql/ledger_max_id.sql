-- The largest ledger id so far: every row inserted after this has a larger one.
SELECT COALESCE(MAX(id), 0) FROM ledger
