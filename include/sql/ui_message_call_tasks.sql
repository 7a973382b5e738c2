-- The call tasks a message's reminders became when the SMS did not reach the holder.
SELECT t.id, t.dept_code, t.licence_no, t.stage, t.expiry_date, t.due_on, t.reason_code, t.reason,
       t.status, t.outcome, t.next_try_on, t.closed_reason, t.created_at, t.closed_at
FROM reminder r
JOIN call_task t ON t.reminder_id = r.id
WHERE r.message_id = :id
ORDER BY t.id
