-- Cycles the planning looked at on the day it had given them: the next day, where no sync has
-- changed them meanwhile (a sync sets next_check_on back to NULL). An UPDATE reads the latest
-- committed row, and waits for a sync still holding it.
UPDATE ledger SET next_check_on = :next_check_on
WHERE id IN :ids AND next_check_on = :seen_next
