-- Planned reminders with everything their message needs: the licence, its holder and contact,
-- and the catalogue entry its template is built from. A department held for stale data
-- (dispatch_hold, alerts.py) keeps its reminders planned until it syncs or is released.
SELECT r.id AS reminder_id, r.stage, r.dept_code, r.licence_no, r.expiry_date, r.ledger_id,
       l.licence_name, l.holder_name, l.holder_code, l.holder_type, l.contact_name, l.contact_mobile,
       c.approval_item, c.office, c.statutory_validity, c.first_lead_days, c.second_lead_days,
       c.renewal_window, c.renewal_deadline_days, c.online_url, c.service_hall, c.service_phone,
       c.materials, c.lapse_consequences, c.code, c.page_url, c.licence_no_digits,
       c.sms_consequences, c.lead_rule, d.name AS dept_name
FROM reminder r
JOIN ledger l ON l.id = r.ledger_id
JOIN catalogue_entry c ON c.dept_code = l.dept_code AND c.licence_name = l.licence_name
JOIN department d ON d.code = r.dept_code
WHERE r.status = 'planned' AND r.channel = :channel
  AND NOT EXISTS (SELECT 1 FROM dispatch_hold h WHERE h.open_key = r.dept_code)
ORDER BY r.dept_code, l.contact_mobile, r.stage, r.expiry_date, r.id
