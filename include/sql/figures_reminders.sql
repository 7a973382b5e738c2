-- One department's reminders to date per channel and status, for the summary (figures.py adds
-- them up as summary_departments.sql and summary_channels.sql count them), in one pass.
SELECT channel, status, COUNT(*) AS reminders
FROM reminder
WHERE dept_code = :dept_code
GROUP BY channel, status
