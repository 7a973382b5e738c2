-- The licences (reminders) each of these messages carries.
SELECT r.message_id, r.licence_no, r.stage, r.expiry_date, r.status
FROM reminder r
WHERE r.message_id IN :ids
ORDER BY r.message_id, r.licence_no
