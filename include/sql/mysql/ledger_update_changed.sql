-- Changed rows take the source's values; a later expiry date starts a new reminder cycle.
-- A department whose renewal applications come from a side table (:keep_applied) keeps the
-- application date the side table gave when its licence rows give none.
-- Driven by the run's own staged rows, through its index: a multi-table UPDATE share-locks the
-- rows it reads, and other departments' runs hold theirs locked until they commit.
UPDATE staging_licence s FORCE INDEX (ix_staging_run)
STRAIGHT_JOIN ledger l ON l.dept_code = s.dept_code AND l.licence_no = s.licence_no
SET l.cycle = l.cycle + (CASE WHEN s.expiry_date > l.expiry_date THEN 1 ELSE 0 END),
    l.licence_name = s.licence_name, l.holder_name = s.holder_name, l.holder_type = s.holder_type, l.holder_code = s.holder_code, l.contact_name = s.contact_name, l.contact_id_no = s.contact_id_no, l.contact_mobile = s.contact_mobile, l.issue_date = s.issue_date, l.expiry_date = s.expiry_date, l.status = s.status, l.renewal_applied_on = CASE WHEN :keep_applied = 1 THEN COALESCE(s.renewal_applied_on, l.renewal_applied_on) ELSE s.renewal_applied_on END, l.source_updated_at = s.source_updated_at, l.first_reminder_on = s.first_reminder_on, l.second_reminder_on = s.second_reminder_on, l.row_hash = s.row_hash,
    l.contact_id_digest = s.contact_id_digest, l.holder_code_digest = s.holder_code_digest, l.source_hash = s.source_hash,
    l.vanished_at = NULL, l.next_check_on = NULL, l.updated_run = :run_id, l.updated_at = :now
WHERE s.run_id = :run_id AND s.dept_code = :dept_code
  AND (s.row_hash <> l.row_hash OR l.vanished_at IS NOT NULL
       OR NOT (s.contact_id_digest <=> l.contact_id_digest) OR NOT (s.holder_code_digest <=> l.holder_code_digest) OR NOT (s.source_hash <=> l.source_hash))
