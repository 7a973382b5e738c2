-- One department's SMS messages written (not superseded or cancelled), per day written and
-- length in billed segments, and how many a provider accepted: the summary adds up the days of
-- the last 365 (summary_segments.sql's figures, for any day it is asked).
SELECT DATE(created_at) AS created_on, segments, COUNT(*) AS messages,
       SUM(CASE WHEN sent_at IS NOT NULL THEN 1 ELSE 0 END) AS accepted
FROM outbox_message
WHERE dept_code = :dept_code AND status NOT IN ('superseded', 'cancelled') AND channel = 'sms'
GROUP BY DATE(created_at), segments
