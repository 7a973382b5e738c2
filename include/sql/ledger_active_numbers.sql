-- Licences a full reconciliation expects to find in the source: those not already vanished.
SELECT licence_no FROM ledger WHERE dept_code = :dept_code AND vanished_at IS NULL
