-- Reminders whose message was written on an earlier day and not sent (sending hours closed, a
-- run that stopped, a gateway that failed): planned again, so that today's text states today's
-- days left (outbox_supersede_stale.sql says why that cannot send anything twice).
UPDATE reminder SET status = 'planned', message_id = NULL, updated_at = :now
WHERE status = 'queued' AND message_id IN (
    SELECT m.id FROM outbox_message m
    WHERE m.status = 'pending' AND m.created_at < :today_start)
