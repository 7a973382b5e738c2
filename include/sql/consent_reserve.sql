-- A one-time consent set aside for the message being written, unless a message still on its way
-- (pending, sending, in doubt) holds it.
UPDATE wechat_consent SET reserved_by = :message_id, updated_at = :now
WHERE id = :id AND status = 'granted'
  AND (reserved_by IS NULL OR NOT EXISTS (
        SELECT 1 FROM outbox_message m
        WHERE m.id = wechat_consent.reserved_by AND m.status IN ('pending', 'sending', 'unknown')))
