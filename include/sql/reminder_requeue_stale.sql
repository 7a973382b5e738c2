-- Reminders whose message was written on an earlier day and never tried (sending hours closed,
-- a run that stopped): planned again, so that today's text states today's days left.
UPDATE reminder SET status = 'planned', message_id = NULL, updated_at = :now
WHERE status = 'queued' AND message_id IN (
    SELECT m.id FROM outbox_message m
    WHERE m.status = 'pending' AND m.attempts = 0 AND m.created_at < :today_start)
