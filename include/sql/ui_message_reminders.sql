-- The reminders a message carries, with each licence's name.
SELECT r.id, r.dept_code, r.licence_no, l.licence_name, r.cycle, r.expiry_date, r.stage,
       r.channel, r.due_on, r.status, r.status_reason, r.planned_run, r.created_at, r.updated_at
FROM reminder r
LEFT JOIN ledger l ON l.id = r.ledger_id
WHERE r.message_id = :id
ORDER BY r.licence_no, r.stage
