-- Feed numbers for a writer's changes: the row lock is held until the writer commits, so numbers
-- are handed out in commit order (channels/prompts.py).
UPDATE prompt_feed SET seq = seq + :n WHERE id = 1
