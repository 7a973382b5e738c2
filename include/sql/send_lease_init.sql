-- A shard's lease row, made once (epoch 0: nobody has held it yet).
INSERT INTO send_lease (shard, epoch, holder, taken_at) VALUES (:shard, 0, '', :now)
ON CONFLICT (shard) DO NOTHING
