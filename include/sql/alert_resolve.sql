UPDATE alert SET open_key = NULL, resolved_at = :now WHERE open_key = :key
