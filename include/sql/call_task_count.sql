-- How many call tasks call_task_list.sql would list without its limit.
SELECT COUNT(*) FROM call_task t
WHERE (:dept_code IS NULL OR t.dept_code = :dept_code)
  AND (:open_only = 0 OR t.status IN ('open', 'retry'))
  AND (:due_before IS NULL OR COALESCE(t.next_try_on, t.due_on) <= :due_before)
