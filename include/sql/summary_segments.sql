-- Per department and length in billed segments: the messages written since :since (not those
-- superseded by a rewrite or cancelled), and how many of them a provider accepted (billed).
SELECT dept_code, segments, COUNT(*) AS messages,
       SUM(CASE WHEN sent_at IS NOT NULL THEN 1 ELSE 0 END) AS accepted
FROM outbox_message
WHERE created_at >= :since AND status NOT IN ('superseded', 'cancelled') AND channel = 'sms'
GROUP BY dept_code, segments
