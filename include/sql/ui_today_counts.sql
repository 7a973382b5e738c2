-- Today's figures per department, one row per (measure, department): reminders due today,
-- reminders still waiting to be sent, open call-list entries of unexpired licences, messages the
-- gateways accepted today, and the carriers' reports received today.
SELECT 'due' AS measure, dept_code, COUNT(*) AS n
FROM reminder WHERE due_on = :today AND status <> 'cancelled' GROUP BY dept_code
UNION ALL
SELECT 'pending', dept_code, COUNT(*)
FROM reminder WHERE status IN ('planned', 'queued') AND due_on <= :today GROUP BY dept_code
UNION ALL
SELECT 'call_list', dept_code, COUNT(*)
FROM reminder WHERE status IN ('call_list', 'failed') AND expiry_date >= :today GROUP BY dept_code
UNION ALL
SELECT 'sent', dept_code, COUNT(*)
FROM outbox_message WHERE sent_at >= :day_start AND sent_at < :day_end GROUP BY dept_code
UNION ALL
SELECT a.outcome, a.dept_code, COUNT(*)
FROM delivery_attempt a
WHERE a.kind = 'receipt' AND a.started_at >= :day_start AND a.started_at < :day_end
GROUP BY a.outcome, a.dept_code
