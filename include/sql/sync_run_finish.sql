UPDATE sync_run SET status = :status, finished_at = :now, watermark_to = :watermark_to,
    rows_read = :rows_read, rows_valid = :rows_valid, rows_rejected = :rows_rejected, rows_warned = :rows_warned,
    inserted = :inserted, updated = :updated, renewed = :renewed, vanished = :vanished,
    quarantine_resolved = :quarantine_resolved, counts_by_rule = :counts_by_rule, error = :error
WHERE run_id = :run_id
