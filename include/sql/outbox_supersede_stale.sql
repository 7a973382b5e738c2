-- Not sent, written on an earlier day: replaced by a message written today, which states today's
-- days left. 'pending' means never tried, or tried and refused for certain (an answer that it was
-- not taken, or a lookup proving the provider never got it; a call that may have gone through is
-- 'sending' or 'unknown' instead): nothing can arrive twice.
UPDATE outbox_message
SET status = 'superseded', last_message = 'not sent on the day it was written; written again',
    updated_at = :now
WHERE status = 'pending' AND created_at < :today_start
