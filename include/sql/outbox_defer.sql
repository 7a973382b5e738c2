-- Messages no connection may take now (every one they could go through is switched off): looked
-- at again at :next_at, untried.
UPDATE outbox_message SET next_attempt_at = :next_at, updated_at = :now
WHERE id IN :ids AND status = 'pending'
