-- Per department and key: the ledger's identity-number digests (protect.py), and the values
-- still held in clear (none once migration 0019 ran; a row written by an older version would be).
SELECT dept_code,
       SUBSTR(contact_id_digest, 1, INSTR(contact_id_digest, ':') - 1) AS contact_key,
       SUBSTR(holder_code_digest, 1, INSTR(holder_code_digest, ':') - 1) AS holder_key,
       SUM(CASE WHEN contact_id_no IS NOT NULL AND contact_id_digest IS NULL THEN 1 ELSE 0 END) AS contact_clear,
       COUNT(*) AS n
FROM ledger
WHERE contact_id_digest IS NOT NULL OR holder_code_digest IS NOT NULL
   OR (contact_id_no IS NOT NULL AND contact_id_digest IS NULL)
GROUP BY dept_code, SUBSTR(contact_id_digest, 1, INSTR(contact_id_digest, ':') - 1),
         SUBSTR(holder_code_digest, 1, INSTR(holder_code_digest, ':') - 1)
ORDER BY dept_code, contact_key, holder_key
