#!/usr/bin/env bash
# The integration tests talk to real MariaDB and PostgreSQL servers on 127.0.0.1.
# Start one that is installed but stopped; fail loudly, with the fix, when one is missing.
set -u
MYSQL_HOST=${LR_TEST_MYSQL_HOST:-127.0.0.1}
PG_HOST=${LR_TEST_PG_HOST:-127.0.0.1}
fail=0

wait_for() {  # name, probe command...
  local name=$1; shift
  for _ in $(seq 1 30); do "$@" >/dev/null 2>&1 && return 0; sleep 1; done
  echo "ensure-services: $name did not come up within 30 s" >&2
  return 1
}

mariadb_up() { mariadb-admin -h "$MYSQL_HOST" -uroot --connect-timeout=2 ping; }
if ! mariadb_up >/dev/null 2>&1; then
  if [ -x /usr/sbin/mariadbd ]; then
    echo "ensure-services: MariaDB is stopped; starting it"
    start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd
    wait_for MariaDB mariadb_up || fail=1
  else
    echo "ensure-services: MariaDB is not installed. Fix: apt-get update && apt-get install -y mariadb-server && start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd" >&2
    fail=1
  fi
fi

pg_up() { pg_isready -h "$PG_HOST" -p 5432 -t 2; }
if ! pg_up >/dev/null 2>&1; then
  if ls /etc/postgresql >/dev/null 2>&1 && command -v pg_ctlcluster >/dev/null; then
    echo "ensure-services: PostgreSQL is stopped; starting it"
    pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n1)" main start
    wait_for PostgreSQL pg_up || fail=1
  else
    echo "ensure-services: PostgreSQL is not installed. Fix: apt-get update && apt-get install -y postgresql && pg_ctlcluster --skip-systemctl-redirect \$(ls /etc/postgresql) main start" >&2
    fail=1
  fi
fi
exit $fail
