-- Claimed messages that were not tried (the provider refused the account first, or another
-- sender took the shard over): pending again, their claim's attempt taken back. Only the
-- sender's own claim: a message the new holder has since settled or claimed is left alone.
UPDATE outbox_message SET status = 'pending', attempts = attempts - 1, updated_at = :now
WHERE id IN :ids AND status = 'sending' AND claim_epoch = :epoch
