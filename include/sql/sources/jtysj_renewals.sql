-- 交通运输局 renewal applications (换证申请), kept apart from the certificates and without a change
-- time: read whole every run (source.renewals). A returned application (退回) is no application.
SELECT zsbh AS licence_no, sqrq AS applied_on
FROM jt_hzsq
WHERE blzt <> '退回'
