-- Claimed and committed before the gateway call: a whole batch in one statement.
UPDATE outbox_message SET status = 'sending', attempts = attempts + 1, updated_at = :now
WHERE id IN :ids AND status = 'pending'
