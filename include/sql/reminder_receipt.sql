-- Reminders follow their message's carrier report.
UPDATE reminder SET status = :status, status_reason = :reason, updated_at = :now
WHERE message_id = :message_id AND status = 'sent'
