-- Per department and channel: the reminders to date (not cancelled) and what became of them.
-- reached: sent or delivered (a gateway or WeChat took it, a business system acknowledged the
-- prompt); waiting: planned or queued (an open prompt waits here); unreachable: no consent.
SELECT r.dept_code, r.channel, COUNT(*) AS reminders,
       SUM(CASE WHEN r.status IN ('sent', 'delivered') THEN 1 ELSE 0 END) AS reached,
       SUM(CASE WHEN r.status IN ('planned', 'queued') THEN 1 ELSE 0 END) AS waiting,
       SUM(CASE WHEN r.status IN ('call_list', 'failed') THEN 1 ELSE 0 END) AS failed,
       SUM(CASE WHEN r.status = 'unreachable' THEN 1 ELSE 0 END) AS unreachable
FROM reminder r
WHERE r.status <> 'cancelled'
GROUP BY r.dept_code, r.channel
