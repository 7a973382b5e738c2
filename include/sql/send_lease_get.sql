-- A shard's lease: its epoch, who took it last and whether that sender let it go.
SELECT epoch, holder, taken_at, released_at FROM send_lease WHERE shard = :shard
