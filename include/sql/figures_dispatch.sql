-- One department's call tasks and SMS gateway calls to date, for the summary (figures.py; its
-- reminders: figures_reminders.sql, its messages: figures_messages.sql), each read through an
-- index that leads with the department.
SELECT t.calls_open, t.calls_reached, t.call_tasks, a.gateway_calls
FROM (
    SELECT COUNT(CASE WHEN status IN ('open', 'retry') THEN 1 END) AS calls_open,
           COUNT(CASE WHEN outcome LIKE 'reached%' THEN 1 END) AS calls_reached, COUNT(*) AS call_tasks
    FROM call_task WHERE dept_code = :dept_code
) t CROSS JOIN (
    SELECT COUNT(*) AS gateway_calls
    FROM delivery_attempt WHERE dept_code = :dept_code AND channel = 'sms' AND kind = 'send'
) a
