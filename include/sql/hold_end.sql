-- A hold ends: the department synced, or an operator released it (who and why kept).
UPDATE dispatch_hold SET open_key = NULL, ended_at = :now, ended_how = :how, released_by = :by,
    release_note = :note
WHERE open_key = :dept_code
