-- A licence whose row this run rejected although it says revoked or cancelled takes that status
-- (history_status_from_rejected.sql); its other values stay as last loaded. The row hash is
-- spoiled so that the row, once fixed, is merged whole even if it equals what was loaded before.
UPDATE ledger
SET status = r.kind, row_hash = 'status from a rejected row', next_check_on = NULL, updated_run = :run_id, updated_at = :now
FROM (SELECT k.licence_no, MAX(k.kind) AS kind FROM staging_key k
      WHERE k.run_id = :run_id AND k.dept_code = :dept_code AND k.kind IN ('revoked', 'cancelled')
      GROUP BY k.licence_no) AS r
WHERE ledger.dept_code = :dept_code AND ledger.licence_no = r.licence_no AND ledger.status = 'valid'
