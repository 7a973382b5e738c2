-- The department's catalogue file mirrored into the ledger database for joins and audit.
INSERT INTO catalogue_entry (dept_code, licence_name, approval_item, office, statutory_validity, first_lead_days, second_lead_days, renewal_window, renewal_deadline_days, online_url, service_hall, service_phone, materials, lapse_consequences, code, page_url, licence_no_digits, sms_consequences, lead_rule, channels, updated_at)
VALUES (:dept_code, :licence_name, :approval_item, :office, :statutory_validity, :first_lead_days, :second_lead_days, :renewal_window, :renewal_deadline_days, :online_url, :service_hall, :service_phone, :materials, :lapse_consequences, :code, :page_url, :licence_no_digits, :sms_consequences, :lead_rule, :channels, :updated_at)
ON CONFLICT (dept_code, licence_name) DO UPDATE SET approval_item = excluded.approval_item,
    office = excluded.office,
    statutory_validity = excluded.statutory_validity,
    first_lead_days = excluded.first_lead_days,
    second_lead_days = excluded.second_lead_days,
    renewal_window = excluded.renewal_window,
    renewal_deadline_days = excluded.renewal_deadline_days,
    online_url = excluded.online_url,
    service_hall = excluded.service_hall,
    service_phone = excluded.service_phone,
    materials = excluded.materials,
    lapse_consequences = excluded.lapse_consequences,
    code = excluded.code,
    page_url = excluded.page_url,
    licence_no_digits = excluded.licence_no_digits,
    sms_consequences = excluded.sms_consequences,
    lead_rule = excluded.lead_rule,
    channels = excluded.channels,
    updated_at = excluded.updated_at
