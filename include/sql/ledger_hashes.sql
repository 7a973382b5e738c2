-- Row hashes of a chunk's licences the ledger holds, vanished or not, to stage only what changed.
SELECT licence_no, row_hash, vanished_at IS NOT NULL FROM ledger
WHERE dept_code = :dept_code AND licence_no IN :licence_nos
