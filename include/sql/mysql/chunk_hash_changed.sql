-- The chunk's licences whose content differs from the ledger's, or that it holds as vanished or
-- not at all; with whether it holds them (a licence it does not hold is inserted, not updated).
SELECT c.licence_no, l.id IS NOT NULL FROM chunk_hash c
LEFT JOIN ledger l ON l.dept_code = :dept_code AND l.licence_no = c.licence_no
WHERE l.id IS NULL OR l.row_hash <> c.row_hash OR l.vanished_at IS NOT NULL
