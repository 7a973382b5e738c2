-- The expiry dates a department's licences of one catalogue entry have: their reminder dates are
-- worked out once per date (working-day leads), not once per licence.
SELECT DISTINCT expiry_date FROM ledger WHERE dept_code = :dept_code AND licence_name = :licence_name
