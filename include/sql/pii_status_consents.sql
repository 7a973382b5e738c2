-- Mini-program consents naming their holder by a person's ID number, per digest key (protect.py).
SELECT SUBSTR(holder_code_digest, 1, INSTR(holder_code_digest, ':') - 1) AS key_id,
       COUNT(*) AS n
FROM wechat_consent
WHERE holder_code_digest IS NOT NULL AND status = 'granted'
GROUP BY SUBSTR(holder_code_digest, 1, INSTR(holder_code_digest, ':') - 1)
ORDER BY key_id
