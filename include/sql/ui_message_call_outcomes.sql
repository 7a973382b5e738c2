-- Every outcome recorded on those call tasks (who, when, what; notes are kept masked), in order.
SELECT o.id, o.call_task_id, o.outcome, o.note, o.retry_on, o.recorded_by, o.recorded_at
FROM reminder r
JOIN call_task t ON t.reminder_id = r.id
JOIN call_outcome o ON o.call_task_id = t.id
WHERE r.message_id = :id
ORDER BY o.recorded_at, o.id
