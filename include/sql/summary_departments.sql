-- Per department: the latest sync run, the ledger, and reminders/SMS messages to date (the other
-- channels: summary_channels.sql).
SELECT d.code, d.name,
       (SELECT COUNT(*) FROM ledger l WHERE l.dept_code = d.code) AS in_ledger,
       (SELECT COUNT(*) FROM ledger l WHERE l.dept_code = d.code AND l.vanished_at IS NULL AND l.status = 'revoked') AS revoked,
       (SELECT COUNT(*) FROM ledger l WHERE l.dept_code = d.code AND l.vanished_at IS NULL AND l.status = 'cancelled') AS cancelled,
       (SELECT COUNT(*) FROM ledger l WHERE l.dept_code = d.code AND l.vanished_at IS NOT NULL) AS vanished,
       (SELECT COUNT(*) FROM quarantine q WHERE q.dept_code = d.code AND q.resolved_at IS NULL) AS in_quarantine,
       (SELECT COUNT(DISTINCT w.licence_no) FROM licence_warning w WHERE w.dept_code = d.code AND w.resolved_at IS NULL) AS with_warnings,
       (SELECT COUNT(*) FROM call_task t WHERE t.dept_code = d.code AND t.status IN ('open', 'retry')) AS calls_open,
       (SELECT COUNT(*) FROM call_task t WHERE t.dept_code = d.code AND t.outcome LIKE 'reached%') AS calls_reached,
       (SELECT COUNT(*) FROM call_task t WHERE t.dept_code = d.code) AS call_tasks,
       (SELECT COUNT(*) FROM reminder r WHERE r.dept_code = d.code AND r.status <> 'cancelled') AS reminders,
       (SELECT COUNT(*) FROM reminder r WHERE r.dept_code = d.code AND r.status = 'cancelled') AS reminders_cancelled,
       (SELECT COUNT(*) FROM outbox_message m WHERE m.dept_code = d.code AND m.channel = 'sms' AND m.status IN ('sent', 'delivered')) AS messages_sent,
       (SELECT COUNT(*) FROM outbox_message m WHERE m.dept_code = d.code AND m.channel = 'sms' AND m.status = 'delivered') AS messages_delivered,
       (SELECT COUNT(*) FROM outbox_message m WHERE m.dept_code = d.code AND m.channel = 'sms' AND m.status IN ('call_list', 'failed')) AS messages_failed,
       (SELECT COUNT(*) FROM outbox_message m WHERE m.dept_code = d.code AND m.channel = 'sms' AND m.status IN ('pending', 'sending', 'unknown')) AS messages_pending,
       (SELECT COUNT(*) FROM delivery_attempt a WHERE a.dept_code = d.code AND a.channel = 'sms' AND a.kind = 'send') AS gateway_calls
FROM department d
ORDER BY d.code
