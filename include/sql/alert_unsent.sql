-- Alerts not yet taken by every notifier, oldest first (a resolved one too: it happened).
SELECT id, kind, incident_key, title, body, sent_to FROM alert WHERE sent_at IS NULL ORDER BY id
