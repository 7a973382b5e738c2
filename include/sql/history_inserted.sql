-- History rows for the licences this run added to the ledger (found through the run's staging
-- rows: the ledger has no index on created_run).
INSERT INTO ledger_history (ledger_id, dept_code, licence_no, run_id, change_kind, old_values, new_values, changed_at)
SELECT l.id, l.dept_code, l.licence_no, :run_id, 'insert', NULL,
       json_object('licence_name', l.licence_name, 'holder_name', l.holder_name,
                   'holder_type', l.holder_type, 'holder_code', l.holder_code,
                   'contact_name', l.contact_name, 'contact_id_no', l.contact_id_no,
                   'contact_mobile', l.contact_mobile, 'issue_date', l.issue_date,
                   'expiry_date', l.expiry_date, 'status', l.status,
                   'renewal_applied_on', l.renewal_applied_on),
       :now
FROM staging_licence s
JOIN ledger l ON l.dept_code = s.dept_code AND l.licence_no = s.licence_no
WHERE s.run_id = :run_id AND s.dept_code = :dept_code AND l.created_run = :run_id
  AND NOT EXISTS (SELECT 1 FROM ledger_history h
                  WHERE h.ledger_id = l.id AND h.run_id = :run_id AND h.change_kind = 'insert')
