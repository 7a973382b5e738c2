UPDATE reminder SET status = 'queued', message_id = :message_id, updated_at = :now
WHERE id = :reminder_id AND status = 'planned'
