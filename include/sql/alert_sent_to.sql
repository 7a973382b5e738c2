-- A notifier took the alert; ``sent_at`` once every configured one has.
UPDATE alert SET sent_to = :sent_to, sent_at = :sent_at, claimed_at = NULL WHERE id = :id
