-- The annual assessment's figures of one department, by year of expiry (v_assessment_yearly).
SELECT year, licence_cycles, expired_to_date, reminded, reminder_delivered, renewed_before_expiry,
       renewed_after_expiry, applied_before_expiry, lapsed, lapsed_unreminded
FROM v_assessment_yearly
WHERE dept_code = :dept
ORDER BY year
