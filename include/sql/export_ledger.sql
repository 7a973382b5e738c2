-- The ledger in attachment-2 order: by department, then expiry date.
SELECT l.dept_code, d.name AS dept_name, l.licence_no, l.holder_name, l.licence_name, l.expiry_date,
       l.contact_name, l.contact_id_no, l.contact_mobile, l.first_reminder_on, l.status, l.vanished_at
FROM ledger l
JOIN department d ON d.code = l.dept_code
WHERE (:dept_code IS NULL OR l.dept_code = :dept_code)
  AND (:include_inactive = 1 OR (l.status = 'valid' AND l.vanished_at IS NULL))
ORDER BY l.dept_code, l.expiry_date, l.licence_no
