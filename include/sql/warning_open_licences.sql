-- Licence numbers with an open warning: their rows are validated again in every run, so that
-- a warning is resolved only when the source is fixed.
SELECT DISTINCT licence_no FROM licence_warning WHERE dept_code = :dept_code AND resolved_at IS NULL
