-- History of licences whose renewal application the department's side table gives and the ledger
-- did not hold (or held with another date): whole rows, the new ones the old with the application
-- date set (see history_status_from_rejected.sql). A date not given is the day of the run.
INSERT INTO ledger_history (ledger_id, dept_code, licence_no, run_id, change_kind, old_values, new_values, changed_at)
SELECT h.id, h.dept_code, h.licence_no, :run_id, 'update', h.old_values,
       json_set(h.old_values, '$.renewal_applied_on', COALESCE(h.applied_on, :today)), :now
FROM (SELECT l.id, l.dept_code, l.licence_no, r.applied_on,
             json_object('licence_name', l.licence_name, 'holder_name', l.holder_name,
                         'holder_type', l.holder_type, 'holder_code', l.holder_code,
                         'contact_name', l.contact_name, 'contact_id_no', l.contact_id_no,
                         'contact_mobile', l.contact_mobile, 'issue_date', l.issue_date,
                         'expiry_date', l.expiry_date, 'status', l.status,
                         'renewal_applied_on', l.renewal_applied_on) AS old_values
      FROM ledger l
      JOIN staging_renewal r ON r.dept_code = l.dept_code AND r.licence_no = l.licence_no
      WHERE r.run_id = :run_id AND r.dept_code = :dept_code
        AND (l.renewal_applied_on IS NULL
             OR (r.applied_on IS NOT NULL AND r.applied_on <> l.renewal_applied_on))) h
