-- Each looked-at cycle's next check day, only where the row is still what the planning decided
-- on: a sync that changed it meanwhile set next_check_on to NULL (and moved updated_at or its
-- reminder days), and the next planning must look at it again.
UPDATE ledger SET next_check_on = t.next_check_on
FROM plan_next_check t
WHERE t.id = ledger.id
  AND ledger.updated_at IS t.seen_updated_at AND ledger.first_reminder_on IS t.seen_first
  AND ledger.second_reminder_on IS t.seen_second AND ledger.next_check_on IS t.seen_next
