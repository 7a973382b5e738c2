-- This cycle's reminders of the candidate licences (same expiry date), by channel and stage.
SELECT r.ledger_id, r.channel, r.stage, r.status, r.status_reason
FROM reminder r
JOIN ledger l ON l.id = r.ledger_id AND l.expiry_date = r.expiry_date
WHERE l.expiry_date >= :today AND l.expiry_date <= :horizon
