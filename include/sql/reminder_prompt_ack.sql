-- An acknowledged prompt reached its holder: its reminder is delivered.
UPDATE reminder SET status = 'delivered', status_reason = :reason, updated_at = :now
WHERE id = :reminder_id AND status = 'queued'
