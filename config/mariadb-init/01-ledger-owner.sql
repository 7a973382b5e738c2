-- Run once by the MariaDB image at its first start, as root, after it created the database
-- licence_ledger and the user ledger (MARIADB_DATABASE, MARIADB_USER). The auditor role is
-- server-wide, which the ledger's owner may not create; the owner grants it SELECT on the views
-- (db upgrade), for which it needs GRANT OPTION on its database.
CREATE ROLE IF NOT EXISTS licence_auditor;
GRANT ALL PRIVILEGES ON licence_ledger.* TO 'ledger'@'%' WITH GRANT OPTION;
