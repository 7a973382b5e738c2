-- Whether a provider pushed a report for this message: proof it accepted it, whatever a look-up says.
SELECT 1 AS pushed FROM pushed_report WHERE out_id = :id LIMIT 1
