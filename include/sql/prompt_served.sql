-- The first time a business system fetched the prompt.
UPDATE business_prompt SET served_at = :now WHERE id = :id AND served_at IS NULL
