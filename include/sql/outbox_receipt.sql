-- The carrier's report on an accepted message: delivered, or (not delivered) onto the call list.
UPDATE outbox_message
SET status = :status, last_code = :last_code, last_message = :last_message, updated_at = :now
WHERE id = :id AND status = 'sent'
