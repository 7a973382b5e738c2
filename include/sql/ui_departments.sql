-- The departments the ledger holds, for the pages' navigation and filters.
SELECT code, name FROM department ORDER BY code
