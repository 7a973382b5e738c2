-- The departments registered in the ledger database.
SELECT code FROM department ORDER BY code
