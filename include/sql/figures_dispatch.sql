-- One department's dispatch figures for the summary (figures.py): call tasks, reminders, SMS
-- messages and SMS gateway calls to date, as summary_departments.sql counts them, each table
-- read through an index that leads with the department.
SELECT t.calls_open, t.calls_reached, t.call_tasks, r.reminders, r.reminders_cancelled,
       m.messages_sent, m.messages_delivered, m.messages_failed, m.messages_pending, a.gateway_calls
FROM (
    SELECT COUNT(CASE WHEN status IN ('open', 'retry') THEN 1 END) AS calls_open,
           COUNT(CASE WHEN outcome LIKE 'reached%' THEN 1 END) AS calls_reached, COUNT(*) AS call_tasks
    FROM call_task WHERE dept_code = :dept_code
) t CROSS JOIN (
    SELECT COUNT(CASE WHEN status <> 'cancelled' THEN 1 END) AS reminders,
           COUNT(CASE WHEN status = 'cancelled' THEN 1 END) AS reminders_cancelled
    FROM reminder WHERE dept_code = :dept_code
) r CROSS JOIN (
    SELECT COUNT(CASE WHEN status IN ('sent', 'delivered') THEN 1 END) AS messages_sent,
           COUNT(CASE WHEN status = 'delivered' THEN 1 END) AS messages_delivered,
           COUNT(CASE WHEN status IN ('call_list', 'failed') THEN 1 END) AS messages_failed,
           COUNT(CASE WHEN status IN ('pending', 'sending', 'unknown') THEN 1 END) AS messages_pending
    FROM outbox_message WHERE dept_code = :dept_code AND channel = 'sms'
) m CROSS JOIN (
    SELECT COUNT(*) AS gateway_calls
    FROM delivery_attempt WHERE dept_code = :dept_code AND channel = 'sms' AND kind = 'send'
) a
