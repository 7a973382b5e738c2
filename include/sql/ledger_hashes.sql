-- Row hashes of a chunk's licences the ledger holds (not vanished), to stage only what changed.
SELECT licence_no, row_hash FROM ledger
WHERE dept_code = :dept_code AND vanished_at IS NULL AND licence_no IN :licence_nos
