-- A queued message all of whose reminders were cancelled is never sent.
UPDATE outbox_message SET status = 'cancelled', last_message = 'all reminders cancelled', updated_at = :now
WHERE status = 'pending' AND dept_code = :dept_code
  AND EXISTS (SELECT 1 FROM reminder r WHERE r.message_id = outbox_message.id)
  AND NOT EXISTS (SELECT 1 FROM reminder r
                  WHERE r.message_id = outbox_message.id AND r.status <> 'cancelled')
