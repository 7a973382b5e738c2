-- Reminders take their message's final status.
UPDATE reminder SET status = :status, status_reason = :reason, updated_at = :now
WHERE message_id = :message_id AND status IN ('queued', 'sent')
