-- One department's open quarantine entries (rows not loaded) and licences with open warnings,
-- for the summary (figures.py), through their department indexes.
SELECT (SELECT COUNT(*) FROM quarantine
        WHERE dept_code = :dept_code AND resolved_at IS NULL) AS in_quarantine,
       (SELECT COUNT(DISTINCT licence_no) FROM licence_warning
        WHERE dept_code = :dept_code AND resolved_at IS NULL) AS with_warnings
