-- A department's figures could not be taken: the summary counts it live until they are.
UPDATE department_figures SET ledger_taken_at = NULL, dispatch_taken_at = NULL WHERE dept_code = :dept_code
