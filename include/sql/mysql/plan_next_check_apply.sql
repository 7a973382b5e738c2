-- Each looked-at cycle's next check day, only where the row is still what the planning decided
-- on: a sync that changed it meanwhile set next_check_on to NULL (and moved updated_at or its
-- reminder days), and the next planning must look at it again. An UPDATE reads the latest
-- committed row, and waits for a sync still holding it.
UPDATE plan_next_check t
STRAIGHT_JOIN ledger l ON l.id = t.id
SET l.next_check_on = t.next_check_on
WHERE l.updated_at <=> t.seen_updated_at AND l.first_reminder_on <=> t.seen_first
  AND l.second_reminder_on <=> t.seen_second AND l.next_check_on <=> t.seen_next
