-- Call tasks not worked to an end, with what decides whether a call is still needed.
SELECT t.id, t.stage, t.expiry_date, l.status, l.vanished_at, l.expiry_date AS ledger_expiry,
       l.renewal_applied_on,
       (SELECT COUNT(*) FROM reminder r WHERE r.ledger_id = t.ledger_id AND r.expiry_date = t.expiry_date
          AND r.stage > t.stage AND r.status IN ('sent', 'delivered')) AS later_sent
FROM call_task t
JOIN ledger l ON l.id = t.ledger_id
WHERE t.status IN ('open', 'retry')
