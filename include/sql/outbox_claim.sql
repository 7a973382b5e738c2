-- Claimed and committed before the gateway call.
UPDATE outbox_message SET status = 'sending', attempts = attempts + 1, updated_at = :now
WHERE id = :id AND status = 'pending'
