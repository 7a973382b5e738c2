-- The outcomes of a batch of gateway calls, passed as one JSON array: one statement per batch
-- instead of one UPDATE per message. Absent keys are NULL. A message is recorded only while it is
-- still in doubt under the claim the outcome belongs to: a sender that was taken over (an orphaned
-- task process) cannot overwrite what the new holder of the shard settled or claimed since.
UPDATE outbox_message
SET status = r.status, next_attempt_at = r.next_attempt_at,
    provider_message_id = COALESCE(r.provider_message_id, outbox_message.provider_message_id),
    last_code = r.last_code, last_message = r.last_message,
    sent_at = COALESCE(r.sent_at, outbox_message.sent_at), updated_at = r.now
FROM (SELECT json_extract(value, '$.id') AS id, json_extract(value, '$.status') AS status,
             json_extract(value, '$.next_attempt_at') AS next_attempt_at,
             json_extract(value, '$.provider_message_id') AS provider_message_id,
             json_extract(value, '$.last_code') AS last_code,
             json_extract(value, '$.last_message') AS last_message,
             json_extract(value, '$.sent_at') AS sent_at, json_extract(value, '$.now') AS now,
             json_extract(value, '$.epoch') AS epoch
      FROM json_each(:outcomes)) AS r
WHERE r.id = outbox_message.id AND outbox_message.status IN ('sending', 'unknown')
  AND outbox_message.claim_epoch IS r.epoch
