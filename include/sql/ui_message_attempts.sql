-- Every gateway call, look-up and carrier receipt of a message, in order.
SELECT id, attempt_no, kind, started_at, finished_at, outcome, response_code, http_status,
       provider_message_id, request_id, recipient_masked, body_sha256, run_id
FROM delivery_attempt WHERE message_id = :id
ORDER BY started_at, id
