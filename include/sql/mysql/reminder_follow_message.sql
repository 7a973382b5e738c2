-- Reminders take their message's final status; a batch's messages as one JSON array. Only where
-- the message's own record was written (a taken-over sender's stale outcome is not).
UPDATE reminder rm
JOIN JSON_TABLE(:outcomes, '$[*]' COLUMNS (
    message_id VARCHAR(32) COLLATE utf8mb4_bin PATH '$.message_id',
    status VARCHAR(16) PATH '$.status',
    reason VARCHAR(500) PATH '$.reason',
    now DATETIME PATH '$.now')) AS r ON r.message_id = rm.message_id
JOIN outbox_message o ON o.id = r.message_id AND o.status = r.status
SET rm.status = r.status, rm.status_reason = r.reason, rm.updated_at = r.now
WHERE rm.status IN ('queued', 'sent')
