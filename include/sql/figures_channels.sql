-- One department's reminders to date per channel (not cancelled), as summary_channels.sql
-- counts them.
SELECT channel, COUNT(*) AS reminders,
       SUM(CASE WHEN status IN ('sent', 'delivered') THEN 1 ELSE 0 END) AS reached,
       SUM(CASE WHEN status IN ('planned', 'queued') THEN 1 ELSE 0 END) AS waiting,
       SUM(CASE WHEN status IN ('call_list', 'failed') THEN 1 ELSE 0 END) AS failed,
       SUM(CASE WHEN status = 'unreachable' THEN 1 ELSE 0 END) AS unreachable
FROM reminder
WHERE dept_code = :dept_code AND status <> 'cancelled'
GROUP BY channel
