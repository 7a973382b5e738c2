-- The licences whose contact or (person) holder has one of :digests (the number someone read
-- out, under every key of the ring), in one department or all.
SELECT dept_code, licence_no, licence_name, holder_name, expiry_date, status, vanished_at,
       CASE WHEN contact_id_digest IN :digests THEN 'contact' ELSE 'holder' END AS role
FROM ledger
WHERE (contact_id_digest IN :digests OR holder_code_digest IN :digests)
  AND (:dept_code IS NULL OR dept_code = :dept_code)
ORDER BY dept_code, expiry_date, licence_no
