-- A licence whose row this run rejected although it says revoked or cancelled takes that status
-- (history_status_from_rejected.sql); its other values stay as last loaded. The row hash is
-- spoiled so that the row, once fixed, is merged whole even if it equals what was loaded before.
UPDATE ledger
SET status = (SELECT MAX(k.kind) FROM staging_key k
              WHERE k.run_id = :run_id AND k.dept_code = ledger.dept_code
                AND k.licence_no = ledger.licence_no AND k.kind IN ('revoked', 'cancelled')),
    row_hash = 'status from a rejected row', updated_run = :run_id, updated_at = :now
WHERE dept_code = :dept_code AND status = 'valid'
  AND licence_no IN (SELECT k.licence_no FROM staging_key k
                     WHERE k.run_id = :run_id AND k.dept_code = :dept_code
                       AND k.kind IN ('revoked', 'cancelled'))
