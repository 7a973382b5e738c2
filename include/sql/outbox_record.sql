UPDATE outbox_message
SET status = :status, next_attempt_at = :next_attempt_at, provider_message_id = COALESCE(:provider_message_id, provider_message_id),
    last_code = :last_code, last_message = :last_message, sent_at = COALESCE(:sent_at, sent_at), updated_at = :now
WHERE id = :id
