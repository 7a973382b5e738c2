-- A department's catalogue entries last changed in [:day_start, :day_end).
SELECT licence_name, approval_item, first_lead_days, second_lead_days, updated_at
FROM catalogue_entry
WHERE dept_code = :dept AND updated_at >= :day_start AND updated_at < :day_end
ORDER BY licence_name
