-- Source keys of rows still in quarantine: staged (kind 'fixed_key') when seen valid, so that a
-- row fixed under another licence number, or given one, leaves quarantine.
SELECT source_key FROM quarantine
WHERE dept_code = :dept_code AND resolved_at IS NULL AND source_key IS NOT NULL
