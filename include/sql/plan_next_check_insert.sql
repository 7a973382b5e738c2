INSERT INTO plan_next_check (id, next_check_on, seen_updated_at, seen_first, seen_second, seen_next)
VALUES (:id, :next_check_on, :seen_updated_at, :seen_first, :seen_second, :seen_next)
