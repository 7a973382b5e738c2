-- Never tried, written on an earlier day: replaced by a message written today (never sent, so
-- nothing can arrive twice).
UPDATE outbox_message
SET status = 'superseded', last_message = 'not sent on the day it was written; written again',
    updated_at = :now
WHERE status = 'pending' AND attempts = 0 AND created_at < :today_start
