-- Claimed messages that were not tried (the provider refused the account first): pending again,
-- their claim's attempt taken back.
UPDATE outbox_message SET status = 'pending', attempts = attempts - 1, updated_at = :now
WHERE id IN :ids AND status = 'sending'
