-- Reminders take their message's final status; a batch's messages as one JSON array. Only where
-- the message's own record was written (a taken-over sender's stale outcome is not).
UPDATE reminder
SET status = r.status, status_reason = r.reason, updated_at = r.now
FROM (SELECT json_extract(value, '$.message_id') AS message_id, json_extract(value, '$.status') AS status,
             json_extract(value, '$.reason') AS reason, json_extract(value, '$.now') AS now
      FROM json_each(:outcomes)) AS r
WHERE r.message_id = reminder.message_id AND reminder.status IN ('queued', 'sent')
  AND EXISTS (SELECT 1 FROM outbox_message o WHERE o.id = r.message_id AND o.status = r.status)
