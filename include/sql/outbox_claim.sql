-- Claimed and committed before the gateway call: a whole batch in one statement, under the
-- sender's lease epoch (its outcomes are recorded only while the claim is still this one).
UPDATE outbox_message SET status = 'sending', attempts = attempts + 1, claim_epoch = :epoch, updated_at = :now
WHERE id IN :ids AND status = 'pending'
