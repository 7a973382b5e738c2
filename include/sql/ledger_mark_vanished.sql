-- Kept, not deleted: a vanished licence stays in the ledger and is never reminded.
UPDATE ledger SET vanished_at = :now, next_check_on = NULL, updated_run = :run_id, updated_at = :now
WHERE dept_code = :dept_code AND vanished_at IS NULL
  AND licence_no IN (SELECT k.licence_no FROM staging_key k
                     WHERE k.run_id = :run_id AND k.dept_code = :dept_code AND k.kind = 'vanished')
