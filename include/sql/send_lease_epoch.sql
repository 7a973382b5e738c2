-- Checked before every gateway call: a sender whose epoch is no longer the shard's stops.
SELECT epoch FROM send_lease WHERE shard = :shard
