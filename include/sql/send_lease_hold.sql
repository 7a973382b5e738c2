-- In the claim's transaction: the lease is still this sender's (matched rows count), and a
-- takeover waits for the claim to commit, so it sees every message claimed under the old epoch.
UPDATE send_lease SET holder = holder WHERE shard = :shard AND epoch = :epoch
