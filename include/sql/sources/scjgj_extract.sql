-- 市场监管局 licence register: expiry stored as DATE, status as a code (1 有效, 2 注销, 3 吊销).
SELECT x.id AS source_id,  -- the primary key: source.sync.split_column
       x.xkzbh AS licence_no,
       x.xkzmc AS licence_name,
       x.qymc AS holder_name,
       x.tyshxydm AS holder_code,
       x.fzr AS contact_name,
       x.fzrsfzh AS contact_id_no,
       x.lxdh AS contact_mobile,
       x.fzrq AS issue_date,
       x.yxqz AS expiry_date,
       CASE x.zt WHEN 2 THEN 'cancelled' WHEN 3 THEN 'revoked' ELSE 'valid' END AS status,
       x.yxsqrq AS renewal_applied_on,
       x.gxsj AS source_updated_at
FROM scjg_xkz x
