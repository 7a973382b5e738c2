#!/usr/bin/env bash
# make ui: Airflow's API server on the demo's data, with the licence-reminder pages (docs/ui.md).
# Runs in the foreground until Ctrl-C. LR_UI_PORT (default 8080) picks the port.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
source scripts/demo-env.sh
PORT=${LR_UI_PORT:-8080}
[ -f "$VAR/ledger.db" ] || { echo "no demo ledger in ${VAR#$ROOT/}: run make demo first" >&2; exit 1; }
"$ROOT/.venv/bin/airflow" db migrate >"$VAR/airflow-db-migrate.log" 2>&1 || { cat "$VAR/airflow-db-migrate.log"; exit 1; }
"$ROOT/.venv/bin/python" -m licence_reminder.ui.roles --demo-users "$VAR/ui-users.json" >"$VAR/ui-roles.log" 2>&1 || { cat "$VAR/ui-roles.log"; exit 1; }
echo "licence-reminder pages: http://127.0.0.1:$PORT/licence-reminder/today (logins in ${VAR#$ROOT/}/ui-users.json)"
exec "$ROOT/.venv/bin/airflow" api-server --host 127.0.0.1 --port "$PORT"
