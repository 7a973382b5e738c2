-- 交通运输局 certificate register: expiry stored as text in mixed formats, holder kind in Chinese.
SELECT zsbh, zsmc, cyr, cylx, cyrzjh, lxr, lxrsfz, lxdh, fzrq, yxqz, gxsj
FROM jt_zs
WHERE sfsc = 0
