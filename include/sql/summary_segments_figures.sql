-- Per department and length in billed segments: the SMS messages written since :since_day,
-- from the histograms taken at the dispatch (summary_segments.sql's figures).
SELECT dept_code, segments, SUM(messages) AS messages, SUM(accepted) AS accepted
FROM department_segment_figures
WHERE created_on >= :since_day
GROUP BY dept_code, segments
