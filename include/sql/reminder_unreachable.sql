-- A channel with no way to this holder (no mini-program consent): not a failure of the channel;
-- the stage's other channels, or a call task, carry the reminder.
UPDATE reminder SET status = 'unreachable', status_reason = :reason, updated_at = :now
WHERE id = :reminder_id AND status = 'planned'
