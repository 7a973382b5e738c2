-- A one-time consent is used up by the message WeChat accepted, in the transaction that records
-- the acceptance, and only where that record was written (the claim was still the sender's).
UPDATE wechat_consent
SET status = 'used', used_at = :now, used_message_id = :message_id, updated_at = :now
WHERE id = :consent_id AND kind = 'one_time' AND status = 'granted'
  AND EXISTS (SELECT 1 FROM outbox_message m WHERE m.id = :message_id AND m.status = 'sent')
