-- A department's licences as the ledger holds them, for a full run to compare its rows with
-- (sync.ledger_state.LedgerIndex): the row's hash, whether the licence is gone from the source,
-- whether an identity number's digest is under another key than the ring's current one
-- (:key_id; :check_keys = 0 without a key ring: such a row is written again, protect.py), and
-- the hash of the row as the source last gave it.
SELECT licence_no, row_hash, CASE WHEN vanished_at IS NULL THEN 0 ELSE 1 END,
       CASE WHEN :check_keys = 1
             AND ((contact_id_digest IS NOT NULL
                   AND SUBSTR(contact_id_digest, 1, INSTR(contact_id_digest, ':') - 1) <> :key_id)
               OR (holder_code_digest IS NOT NULL
                   AND SUBSTR(holder_code_digest, 1, INSTR(holder_code_digest, ':') - 1) <> :key_id))
            THEN 1 ELSE 0 END,
       source_hash
FROM ledger
WHERE dept_code = :dept_code
