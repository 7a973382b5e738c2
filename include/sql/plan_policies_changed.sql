-- Catalogue entries whose channel policy is not the one the planner last applied to their cycles.
SELECT dept_code, licence_name, COALESCE(channels, '') AS channels
FROM catalogue_entry
WHERE checked_channels IS NULL OR checked_channels <> COALESCE(channels, '')
