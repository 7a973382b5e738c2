-- A department's dispatch figures, taken at :taken_at (figures_dispatch, _reminders, _messages.sql).
-- Never over figures taken later (a sync's and the dispatch's takings may overlap).
UPDATE department_figures
SET dispatch_taken_at = :taken_at, calls_open = :calls_open, calls_reached = :calls_reached,
    call_tasks = :call_tasks, reminders = :reminders, reminders_cancelled = :reminders_cancelled,
    messages_sent = :messages_sent, messages_delivered = :messages_delivered,
    messages_failed = :messages_failed, messages_pending = :messages_pending,
    gateway_calls = :gateway_calls, channels = :channels
WHERE dept_code = :dept_code AND (dispatch_taken_at IS NULL OR dispatch_taken_at <= :taken_at)
