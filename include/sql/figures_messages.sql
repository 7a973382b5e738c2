-- One department's SMS messages per status, day written, length in billed segments and whether a
-- provider accepted them, for the summary (figures.py adds them up as summary_departments.sql
-- and summary_segments.sql count them, the last 365 days of any day asked), in one pass.
SELECT status, DATE(created_at) AS created_on, segments,
       CASE WHEN sent_at IS NULL THEN 0 ELSE 1 END AS accepted, COUNT(*) AS messages
FROM outbox_message
WHERE dept_code = :dept_code AND channel = 'sms'
GROUP BY status, DATE(created_at), segments, CASE WHEN sent_at IS NULL THEN 0 ELSE 1 END
