-- Open prompts whose reminder is no longer waiting (cancelled: renewed, applied for, revoked,
-- superseded) or whose licence expired before anyone acknowledged them.
SELECT p.id, p.reminder_id, r.status AS reminder_status, r.status_reason AS reminder_reason
FROM business_prompt p
JOIN reminder r ON r.id = p.reminder_id
WHERE p.status = 'open' AND (r.status <> 'queued' OR p.expiry_date < :today)
ORDER BY p.feed_seq
