-- Changed rows take the source's values; a later expiry date starts a new reminder cycle.
-- A department whose renewal applications come from a side table (:keep_applied) keeps the
-- application date the side table gave when its licence rows give none.
UPDATE ledger
SET cycle = ledger.cycle + (CASE WHEN s.expiry_date > ledger.expiry_date THEN 1 ELSE 0 END),
    licence_name = s.licence_name, holder_name = s.holder_name, holder_type = s.holder_type, holder_code = s.holder_code, contact_name = s.contact_name, contact_id_no = s.contact_id_no, contact_mobile = s.contact_mobile, issue_date = s.issue_date, expiry_date = s.expiry_date, status = s.status, renewal_applied_on = CASE WHEN :keep_applied = 1 THEN COALESCE(s.renewal_applied_on, ledger.renewal_applied_on) ELSE s.renewal_applied_on END, source_updated_at = s.source_updated_at, first_reminder_on = s.first_reminder_on, second_reminder_on = s.second_reminder_on, row_hash = s.row_hash,
    contact_id_digest = s.contact_id_digest, holder_code_digest = s.holder_code_digest, source_hash = s.source_hash,
    vanished_at = NULL, next_check_on = NULL, updated_run = :run_id, updated_at = :now
FROM staging_licence s
WHERE s.dept_code = ledger.dept_code AND s.licence_no = ledger.licence_no
  AND s.run_id = :run_id AND s.dept_code = :dept_code
  AND (s.row_hash <> ledger.row_hash OR ledger.vanished_at IS NOT NULL
       OR s.contact_id_digest IS NOT ledger.contact_id_digest OR s.holder_code_digest IS NOT ledger.holder_code_digest OR s.source_hash IS NOT ledger.source_hash)
