-- The outcomes of a batch of gateway calls, passed as one JSON array: one round trip per batch
-- instead of one UPDATE per message. Absent keys are NULL. A message is recorded only while it is
-- still in doubt under the claim the outcome belongs to: a sender that was taken over (an orphaned
-- task process) cannot overwrite what the new holder of the shard settled or claimed since.
UPDATE outbox_message o
JOIN JSON_TABLE(:outcomes, '$[*]' COLUMNS (
    id VARCHAR(32) COLLATE utf8mb4_bin PATH '$.id',
    status VARCHAR(16) PATH '$.status',
    next_attempt_at DATETIME PATH '$.next_attempt_at',
    provider_message_id VARCHAR(100) PATH '$.provider_message_id',
    last_code VARCHAR(100) PATH '$.last_code',
    last_message VARCHAR(500) PATH '$.last_message',
    sent_at DATETIME PATH '$.sent_at',
    now DATETIME PATH '$.now',
    epoch INT PATH '$.epoch')) AS r ON r.id = o.id
SET o.status = r.status, o.next_attempt_at = r.next_attempt_at,
    o.provider_message_id = COALESCE(r.provider_message_id, o.provider_message_id),
    o.last_code = r.last_code, o.last_message = r.last_message,
    o.sent_at = COALESCE(r.sent_at, o.sent_at), o.updated_at = r.now
WHERE o.status IN ('sending', 'unknown') AND o.claim_epoch <=> r.epoch
