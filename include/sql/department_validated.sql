-- The rules, catalogue and department file a committed full run validated every row under
-- (sync.ledger_state.context_of): the next full run may skip rows the source gives as before.
UPDATE department SET validated_context = :context WHERE code = :dept_code
