-- The next check day of each cycle the planning looked at, with the values it decided on.
CREATE TEMPORARY TABLE IF NOT EXISTS plan_next_check (
    id BIGINT NOT NULL PRIMARY KEY,
    next_check_on DATE NOT NULL,
    seen_updated_at DATETIME NULL,
    seen_first DATE NULL,
    seen_second DATE NULL,
    seen_next DATE NULL
)
