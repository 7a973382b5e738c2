-- A claimed message failed over to another connection, committed before its call: a doubt about
-- it is then settled where the request went. Only under the sender's own claim.
UPDATE outbox_message
SET gateway_conn_id = :to_conn_id, gateway = :provider, template_code = :template_code, updated_at = :now
WHERE id = :id AND status = 'sending' AND claim_epoch = :epoch
