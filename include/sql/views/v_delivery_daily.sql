-- Counts per department, channel and day: gateway calls, acceptances, failures, carrier reports
-- received, and in-system prompts a business system fetched and acknowledged (channel 'prompt').
CREATE VIEW v_delivery_daily AS
SELECT a.dept_code, a.channel, DATE(a.started_at) AS day,
       SUM(CASE WHEN a.kind = 'send' THEN 1 ELSE 0 END) AS gateway_calls,
       SUM(CASE WHEN a.outcome IN ('accepted', 'recovered') THEN 1 ELSE 0 END) AS messages_accepted,
       SUM(CASE WHEN a.outcome = 'permanent' THEN 1 ELSE 0 END) AS permanent_failures,
       SUM(CASE WHEN a.outcome = 'delivered' THEN 1 ELSE 0 END) AS reported_delivered,
       SUM(CASE WHEN a.outcome = 'undelivered' THEN 1 ELSE 0 END) AS reported_undelivered,
       SUM(CASE WHEN a.outcome IN ('transient', 'rate_limited') THEN 1 ELSE 0 END) AS retried_failures,
       SUM(CASE WHEN a.outcome = 'served' THEN 1 ELSE 0 END) AS prompts_served,
       SUM(CASE WHEN a.outcome = 'acknowledged' THEN 1 ELSE 0 END) AS prompts_acknowledged,
       COUNT(DISTINCT a.message_id) AS messages
FROM delivery_attempt a
GROUP BY a.dept_code, a.channel, DATE(a.started_at)
