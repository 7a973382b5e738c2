-- A sender that stopped (done, or failed while alive) lets the shard go: the next one need not
-- wait out calls it might still have in flight.
UPDATE send_lease SET released_at = :now WHERE shard = :shard AND epoch = :epoch
