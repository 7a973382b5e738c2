-- Every outcome recorded on a call task, oldest first.
SELECT id, outcome, note, retry_on, recorded_by, recorded_at
FROM call_outcome WHERE call_task_id = :task_id ORDER BY id
