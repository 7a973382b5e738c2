-- An outcome a person recorded on a call task (append-only: the database refuses changes).
INSERT INTO call_outcome (call_task_id, dept_code, outcome, note, retry_on, recorded_by, recorded_at)
VALUES (:task_id, :dept_code, :outcome, :note, :retry_on, :recorded_by, :now)
