-- A retired department's licences are kept, marked vanished: never reminded, back if it returns.
UPDATE ledger SET vanished_at = :now, next_check_on = NULL, updated_run = :run_id, updated_at = :now
WHERE dept_code = :dept_code AND vanished_at IS NULL
