-- Per department: the ledger, and reminders/SMS messages to date (the latest sync run:
-- summary_last_sync.sql; the other channels: summary_channels.sql).
-- Each table is read once, grouped by department: a correlated count per department and figure
-- read every department's licences three times through the unique key, row by row (minutes for
-- 100 departments of a 10,000,000-licence ledger, scripts/bench_scale.py).
-- MariaDB: the ledger is read in one sequential pass; left to itself the optimizer turns its
-- group into a lookup per department through the unique key ("lateral derived"), row by row again.
SELECT d.code, d.name,
       COALESCE(l.in_ledger, 0) AS in_ledger, COALESCE(l.revoked, 0) AS revoked,
       COALESCE(l.cancelled, 0) AS cancelled, COALESCE(l.vanished, 0) AS vanished,
       COALESCE(q.in_quarantine, 0) AS in_quarantine, COALESCE(w.with_warnings, 0) AS with_warnings,
       COALESCE(t.calls_open, 0) AS calls_open, COALESCE(t.calls_reached, 0) AS calls_reached,
       COALESCE(t.call_tasks, 0) AS call_tasks,
       COALESCE(r.reminders, 0) AS reminders, COALESCE(r.reminders_cancelled, 0) AS reminders_cancelled,
       COALESCE(m.messages_sent, 0) AS messages_sent, COALESCE(m.messages_delivered, 0) AS messages_delivered,
       COALESCE(m.messages_failed, 0) AS messages_failed, COALESCE(m.messages_pending, 0) AS messages_pending,
       COALESCE(a.gateway_calls, 0) AS gateway_calls
FROM department d
LEFT JOIN (
    SELECT dept_code, COUNT(*) AS in_ledger,
           COUNT(CASE WHEN vanished_at IS NULL AND status = 'revoked' THEN 1 END) AS revoked,
           COUNT(CASE WHEN vanished_at IS NULL AND status = 'cancelled' THEN 1 END) AS cancelled,
           COUNT(vanished_at) AS vanished
    FROM ledger IGNORE INDEX (uq_ledger_licence) GROUP BY dept_code
) l ON l.dept_code = d.code
LEFT JOIN (
    SELECT dept_code, COUNT(*) AS in_quarantine FROM quarantine WHERE resolved_at IS NULL GROUP BY dept_code
) q ON q.dept_code = d.code
LEFT JOIN (
    SELECT dept_code, COUNT(DISTINCT licence_no) AS with_warnings
    FROM licence_warning WHERE resolved_at IS NULL GROUP BY dept_code
) w ON w.dept_code = d.code
LEFT JOIN (
    SELECT dept_code, COUNT(CASE WHEN status IN ('open', 'retry') THEN 1 END) AS calls_open,
           COUNT(CASE WHEN outcome LIKE 'reached%' THEN 1 END) AS calls_reached, COUNT(*) AS call_tasks
    FROM call_task GROUP BY dept_code
) t ON t.dept_code = d.code
LEFT JOIN (
    SELECT dept_code, COUNT(CASE WHEN status <> 'cancelled' THEN 1 END) AS reminders,
           COUNT(CASE WHEN status = 'cancelled' THEN 1 END) AS reminders_cancelled
    FROM reminder GROUP BY dept_code
) r ON r.dept_code = d.code
LEFT JOIN (
    SELECT dept_code, COUNT(CASE WHEN status IN ('sent', 'delivered') THEN 1 END) AS messages_sent,
           COUNT(CASE WHEN status = 'delivered' THEN 1 END) AS messages_delivered,
           COUNT(CASE WHEN status IN ('call_list', 'failed') THEN 1 END) AS messages_failed,
           COUNT(CASE WHEN status IN ('pending', 'sending', 'unknown') THEN 1 END) AS messages_pending
    FROM outbox_message WHERE channel = 'sms' GROUP BY dept_code
) m ON m.dept_code = d.code
LEFT JOIN (
    SELECT dept_code, COUNT(*) AS gateway_calls
    FROM delivery_attempt WHERE channel = 'sms' AND kind = 'send' GROUP BY dept_code
) a ON a.dept_code = d.code
ORDER BY d.code
