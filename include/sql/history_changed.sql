-- History of every ledger row this run changes: old and new values, before the update.
INSERT INTO ledger_history (ledger_id, dept_code, licence_no, run_id, change_kind, old_values, new_values, changed_at)
SELECT l.id, l.dept_code, l.licence_no, :run_id,
       CASE WHEN s.expiry_date > l.expiry_date THEN 'renewal'
            WHEN l.vanished_at IS NOT NULL THEN 'reappear'
            ELSE 'update' END,
       json_object('licence_name', l.licence_name, 'holder_name', l.holder_name,
                   'holder_type', l.holder_type, 'holder_code', l.holder_code,
                   'contact_name', l.contact_name, 'contact_id_no', l.contact_id_no,
                   'contact_id_digest', l.contact_id_digest, 'holder_code_digest', l.holder_code_digest,
                   'contact_mobile', l.contact_mobile, 'issue_date', l.issue_date,
                   'expiry_date', l.expiry_date, 'status', l.status,
                   'renewal_applied_on', l.renewal_applied_on),
       json_object('licence_name', s.licence_name, 'holder_name', s.holder_name,
                   'holder_type', s.holder_type, 'holder_code', s.holder_code,
                   'contact_name', s.contact_name, 'contact_id_no', s.contact_id_no,
                   'contact_id_digest', s.contact_id_digest, 'holder_code_digest', s.holder_code_digest,
                   'contact_mobile', s.contact_mobile, 'issue_date', s.issue_date,
                   'expiry_date', s.expiry_date, 'status', s.status,
                   'renewal_applied_on', CASE WHEN :keep_applied = 1
                                              THEN COALESCE(s.renewal_applied_on, l.renewal_applied_on)
                                              ELSE s.renewal_applied_on END),
       :now
FROM staging_licence s
JOIN ledger l ON l.dept_code = s.dept_code AND l.licence_no = s.licence_no
WHERE s.run_id = :run_id AND s.dept_code = :dept_code
  AND (s.row_hash <> l.row_hash OR l.vanished_at IS NOT NULL)
