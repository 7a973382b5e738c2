-- 卫健委 medical institution licences: expiry kept as DATETIME, status in words (正常, 注销, 吊销).
SELECT y.xkzh AS licence_no,
       y.xkmc AS licence_name,
       y.jgmc AS holder_name,
       y.tydm AS holder_code,
       y.fzrxm AS contact_name,
       y.fzrzjhm AS contact_id_no,
       y.sjhm AS contact_mobile,
       y.fzrq AS issue_date,
       y.yxqz AS expiry_date,
       CASE y.zt WHEN '注销' THEN 'cancelled' WHEN '吊销' THEN 'revoked' ELSE 'valid' END AS status,
       y.yqsqrq AS renewal_applied_on,
       y.gxsj AS source_updated_at
FROM wjw_yljgxk y
