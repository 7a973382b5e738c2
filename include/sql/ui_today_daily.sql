-- City-wide, per day since :since: messages accepted by a gateway, carrier reports of delivery,
-- and reminders put on the call list.
SELECT 'sent' AS measure, DATE(sent_at) AS day, COUNT(*) AS n
FROM outbox_message WHERE sent_at >= :since GROUP BY DATE(sent_at)
UNION ALL
SELECT 'delivered', DATE(started_at), COUNT(*)
FROM delivery_attempt
WHERE started_at >= :since AND kind = 'receipt' AND outcome = 'delivered'
GROUP BY DATE(started_at)
UNION ALL
SELECT 'call_list', DATE(updated_at), COUNT(*)
FROM reminder WHERE status IN ('call_list', 'failed') AND updated_at >= :since
GROUP BY DATE(updated_at)
