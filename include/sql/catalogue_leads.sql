-- The lead times the ledger's reminder dates were computed with.
SELECT licence_name, first_lead_days, second_lead_days, lead_rule FROM catalogue_entry WHERE dept_code = :dept_code
