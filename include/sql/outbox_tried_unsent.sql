-- A shard's messages tried and still pending (transient errors outlasted the send task's wait).
SELECT COUNT(*) FROM outbox_message WHERE shard = :shard AND status = 'pending' AND attempts > 0
