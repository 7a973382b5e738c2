-- Licence numbers still in quarantine: staged whenever seen valid, so that they leave it.
SELECT licence_no FROM quarantine
WHERE dept_code = :dept_code AND resolved_at IS NULL AND licence_no IS NOT NULL
