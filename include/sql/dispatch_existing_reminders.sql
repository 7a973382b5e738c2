-- The current cycle's reminders (same expiry date) of the licences being planned, by channel and stage.
SELECT r.ledger_id, r.channel, r.stage, r.status, r.status_reason
FROM reminder r
JOIN ledger l ON l.id = r.ledger_id AND l.expiry_date = r.expiry_date
WHERE r.ledger_id IN :ids
