-- A shard's lease row, made once (epoch 0: nobody has held it yet).
INSERT IGNORE INTO send_lease (shard, epoch, holder, taken_at) VALUES (:shard, 0, '', :now)
