-- A sender takes the shard over: a new epoch, unless another took it since it was read.
UPDATE send_lease SET epoch = epoch + 1, holder = :holder, taken_at = :now, released_at = NULL
WHERE shard = :shard AND epoch = :seen
