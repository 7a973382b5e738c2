-- History of licences whose row this run rejected although it says revoked or cancelled: the
-- status is taken all the same (ledger_status_from_rejected.sql), so that a bad mobile or date
-- never keeps a revoked licence reminded. Old and new values are whole rows, as in
-- history_changed.sql, so the reconstruction rule of history_inserted.sql still holds: the new
-- ones are the old with only the status changed.
INSERT INTO ledger_history (ledger_id, dept_code, licence_no, run_id, change_kind, old_values, new_values, changed_at)
SELECT h.id, h.dept_code, h.licence_no, :run_id, 'update', h.old_values,
       json_set(h.old_values, '$.status', h.kind), :now
FROM (SELECT l.id, l.dept_code, l.licence_no, k.kind,
             json_object('licence_name', l.licence_name, 'holder_name', l.holder_name,
                         'holder_type', l.holder_type, 'holder_code', l.holder_code,
                         'contact_name', l.contact_name, 'contact_id_no', l.contact_id_no,
                         'contact_mobile', l.contact_mobile, 'issue_date', l.issue_date,
                         'expiry_date', l.expiry_date, 'status', l.status,
                         'renewal_applied_on', l.renewal_applied_on) AS old_values
      FROM ledger l
      JOIN staging_key k ON k.dept_code = l.dept_code AND k.licence_no = l.licence_no
      WHERE k.run_id = :run_id AND k.dept_code = :dept_code AND k.kind IN ('revoked', 'cancelled')
        AND l.status = 'valid') h
