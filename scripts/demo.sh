#!/usr/bin/env bash
# make demo: the whole daily job on the embedded default, from sources to delivered SMS.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
source scripts/demo-env.sh
PY=$ROOT/.venv/bin/python
AIRFLOW=$ROOT/.venv/bin/airflow
TODAY=${LR_DEMO_TODAY:-$(TZ=Asia/Shanghai date +%F)}
mkdir -p "$VAR/sources" "$AIRFLOW_HOME"

echo "== demo for $TODAY (Asia/Shanghai), files in ${VAR#$ROOT/}"
if [ ! -f "$VAR/sources/scjgj.db" ]; then
  "$PY" -m licence_reminder.demo.sources --out-dir "$VAR/sources" --today "$TODAY" --rows 400
else
  echo "department sources already seeded (rm -r var/demo to start over)"
fi
if [ "$LR_CATALOGUE_DIR" = "$VAR/catalogues" ]; then  # the demo's copy: scjgj also by mini-program and prompt
  "$PY" -m licence_reminder.demo.channels catalogues --from "$ROOT/include/registry/catalogues" --to "$LR_CATALOGUE_DIR"
fi
"$PY" -m licence_reminder.cli db upgrade
"$AIRFLOW" db migrate >"$VAR/airflow-db-migrate.log" 2>&1 || { cat "$VAR/airflow-db-migrate.log"; exit 1; }
"$AIRFLOW" pools set sms_gateway 4 "SMS gateway concurrency" >/dev/null
"$PY" -m licence_reminder.ui.roles --demo-users "$VAR/ui-users.json" >"$VAR/ui-roles.log" 2>&1 || { cat "$VAR/ui-roles.log"; exit 1; }

"$PY" -m licence_reminder.cli catalogue check >"$VAR/catalogue-check.log" 2>&1 || { cat "$VAR/catalogue-check.log"; exit 1; }
# the simulator approves the catalogue's templates, as a provider would: each message is checked against them
"$PY" -m licence_reminder.cli catalogue templates --json >"$VAR/templates.json"
"$PY" -m licence_reminder.cli catalogue publish --out "$VAR/public" >/dev/null

port_file=$VAR/simulator.port
rm -f "$port_file"
"$PY" -m licence_reminder.simulator --host 127.0.0.1 --port 0 --port-file "$port_file" \
  --approved "$VAR/templates.json" --wechat-template >"$VAR/simulator.log" 2>&1 &
sim_pid=$!
api_pid=
trap 'kill $sim_pid $api_pid 2>/dev/null || true' EXIT
for _ in $(seq 1 50); do [ -s "$port_file" ] && break; sleep 0.1; done
[ -s "$port_file" ] || { echo "the SMS simulator did not start; see $VAR/simulator.log" >&2; exit 1; }
demo_gateway_conn "$(cat "$port_file")"
SIM=http://127.0.0.1:$(cat "$port_file")
echo "SMS gateway and WeChat simulator on ${SIM#http://} ($LR_DEMO_PROVIDER protocol)"
# two holders a department's SMS cannot reach (a phone the carrier does not reach, a number on the
# provider's block list): the call staff get them, with the message to trace in the delivery log
"$PY" -m licence_reminder.demo.sources --today "$TODAY" --rows 400 --simulator-faults | "$PY" -c \
  'import sys, urllib.request; urllib.request.urlopen(sys.argv[1], data=sys.stdin.buffer.read(), timeout=10)' \
  "$SIM/_sim/faults"
# the channels API (consent intake, prompt feed), served on its own here; Airflow's API server
# serves the same app through plugins/licence_reminder_channels.py
api_port_file=$VAR/channels-api.port
rm -f "$api_port_file"
"$PY" -m licence_reminder.channels.api --host 127.0.0.1 --port 0 --port-file "$api_port_file" >"$VAR/channels-api.log" 2>&1 &
api_pid=$!
for _ in $(seq 1 100); do [ -s "$api_port_file" ] && break; sleep 0.1; done
[ -s "$api_port_file" ] || { echo "the channels API did not start; see $VAR/channels-api.log" >&2; exit 1; }
API=http://127.0.0.1:$(cat "$api_port_file")
"$PY" - "$API" <<'PY' || { echo "the channels API does not answer; see $VAR/channels-api.log" >&2; exit 1; }
import sys, time, urllib.request
for _ in range(100):
    try:
        urllib.request.urlopen(sys.argv[1] + "/licence-reminder-channels/v1/health", timeout=2)
        break
    except OSError:
        time.sleep(0.1)
else:
    sys.exit(1)
PY
echo "channels API (consent intake, in-system prompts) on ${API#http://}"

"$PY" -m licence_reminder.cli summary --json >"$VAR/before.json"
run_dag() {
  local log="$VAR/logs/$1.log"
  mkdir -p "$VAR/logs"
  if "$AIRFLOW" dags test "$1" "$TODAY" >"$log" 2>&1; then
    echo "  $1: success"
  else
    echo "  $1: FAILED (log: ${log#$ROOT/})"; tail -n 20 "$log"; return 1
  fi
}
echo "== running the DAGs (airflow dags test)"
failed=()
# as the scheduler would: one department's failure stops neither the others nor the dispatch
for dag in $("$PY" -c "from licence_reminder.config import Settings; from licence_reminder.registry import scan_registry; print(' '.join('sync_' + e.code for e in scan_registry(Settings.from_env().registry_dir)))"); do
  run_dag "$dag" || failed+=("$dag")
done
# the mini-program's back end reports holders' subscriptions before the dispatch writes its messages
"$PY" -m licence_reminder.demo.channels consents --api "$API" --sim "$SIM" --today "$TODAY" || failed+=(consents)
run_dag dispatch_reminders || failed+=(dispatch_reminders)
# the market regulator's business system pulls its prompts and acknowledges one it showed
"$PY" -m licence_reminder.demo.channels prompts --api "$API" || failed+=(prompts)
echo "== summary"
"$PY" -m licence_reminder.cli summary
"$PY" -m licence_reminder.cli summary --json >"$VAR/after.json"
"$PY" - "$VAR/before.json" "$VAR/after.json" <<'PY'
import json, sys
before = {r["code"]: r for r in json.load(open(sys.argv[1]))}
after = json.load(open(sys.argv[2]))
sent_now = sum(r["messages_sent"] - before.get(r["code"], {}).get("messages_sent", 0) for r in after)
calls_now = sum(r["gateway_calls"] - before.get(r["code"], {}).get("gateway_calls", 0) for r in after)
earlier = sum(before.get(r["code"], {}).get("messages_sent", 0) for r in after)
print(f"this run: {sent_now} messages sent ({calls_now} gateway calls); sent by earlier runs and not sent again: {earlier}")
def reached(rows, channel):
    return sum(r.get("channels", {}).get(channel, {}).get("reached", 0) for r in rows)
def total(rows, channel):
    return sum(r.get("channels", {}).get(channel, {}).get("reminders", 0) for r in rows)
b = list(before.values())
print(f"by channel, this run (reminders): SMS {reached(after, 'sms') - reached(b, 'sms')} sent, "
      f"mini-program {reached(after, 'miniprogram') - reached(b, 'miniprogram')} sent, "
      f"in-system prompts {total(after, 'prompt') - total(b, 'prompt')} written "
      f"({reached(after, 'prompt') - reached(b, 'prompt')} acknowledged)")
PY
echo "data-quality reports: ${LR_REPORT_DIR#$ROOT/}/"
"$PY" - "$VAR/ui-users.json" "${LR_UI_PORT:-8080}" <<'PY'
import json, sys
from licence_reminder.ui.roles import demo_users, registry_codes
logins = json.load(open(sys.argv[1]))
print(f"== the pages: run `make ui`, then open http://127.0.0.1:{sys.argv[2]}/licence-reminder/today")
for u in demo_users(registry_codes()):
    print(f"  {u.username:<18} {logins[u.username]:<18} {u.who}")
print(f"  (logins kept in {sys.argv[1]})")
PY
if [ ${#failed[@]} -gt 0 ]; then
  echo "FAILED: ${failed[*]} (logs in ${VAR#$ROOT/}/logs/)" >&2
  exit 1
fi
