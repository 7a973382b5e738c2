-- The department's catalogue file mirrored into the ledger database for joins and audit.
INSERT INTO catalogue_entry (dept_code, licence_name, approval_item, office, statutory_validity, first_lead_days, second_lead_days, renewal_window, renewal_deadline_days, online_url, service_hall, service_phone, materials, lapse_consequences, code, page_url, licence_no_digits, sms_consequences, lead_rule, channels, updated_at)
VALUES (:dept_code, :licence_name, :approval_item, :office, :statutory_validity, :first_lead_days, :second_lead_days, :renewal_window, :renewal_deadline_days, :online_url, :service_hall, :service_phone, :materials, :lapse_consequences, :code, :page_url, :licence_no_digits, :sms_consequences, :lead_rule, :channels, :updated_at)
ON DUPLICATE KEY UPDATE approval_item = VALUES(approval_item),
    office = VALUES(office),
    statutory_validity = VALUES(statutory_validity),
    first_lead_days = VALUES(first_lead_days),
    second_lead_days = VALUES(second_lead_days),
    renewal_window = VALUES(renewal_window),
    renewal_deadline_days = VALUES(renewal_deadline_days),
    online_url = VALUES(online_url),
    service_hall = VALUES(service_hall),
    service_phone = VALUES(service_phone),
    materials = VALUES(materials),
    lapse_consequences = VALUES(lapse_consequences),
    code = VALUES(code),
    page_url = VALUES(page_url),
    licence_no_digits = VALUES(licence_no_digits),
    sms_consequences = VALUES(sms_consequences),
    lead_rule = VALUES(lead_rule),
    channels = VALUES(channels),
    updated_at = VALUES(updated_at)
