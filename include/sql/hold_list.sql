-- Holds, open ones first: what the summary, the CLI and the dispatch show.
SELECT dept_code, held_at, data_as_of, reason, ended_at, ended_how, released_by, release_note
FROM dispatch_hold
WHERE open_key IS NOT NULL OR :all_holds = 1
ORDER BY CASE WHEN open_key IS NULL THEN 1 ELSE 0 END, held_at DESC
