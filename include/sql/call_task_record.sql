-- The call task's state after an outcome: done, or to be tried again on a date. Only while open,
-- so that two people recording at once cannot both close it.
UPDATE call_task SET status = :status, outcome = :outcome, outcomes = outcomes + 1, next_try_on = :retry_on,
       closed_at = :closed_at, updated_at = :now
WHERE id = :task_id AND status IN ('open', 'retry')
