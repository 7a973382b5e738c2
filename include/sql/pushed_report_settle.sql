-- What became of a pushed report: applied, a duplicate of a settled message, or unmatched.
UPDATE pushed_report SET state = :state, message_id = :message_id, settled_at = :now
WHERE id = :report_id AND state = 'pending'
