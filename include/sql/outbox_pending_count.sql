-- A shard's messages waiting to be sent, now or at their retry time.
SELECT COUNT(*) FROM outbox_message WHERE shard = :shard AND status = 'pending'
