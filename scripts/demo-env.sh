# Environment of the embedded demo: Airflow on SQLite, ledger and department sources in SQLite
# files under var/demo, the SMS gateway simulator on loopback. Source it; it sets no secrets
# beyond the simulator's published test credentials and the demo's own digest key (var/demo).
ROOT=${ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}
VAR=${LR_DEMO_DIR:-$ROOT/var/demo}
export AIRFLOW_HOME=$VAR/airflow
export AIRFLOW__CORE__DAGS_FOLDER=$ROOT/dags
export AIRFLOW__CORE__PLUGINS_FOLDER=$ROOT/plugins
export AIRFLOW__CORE__LOAD_EXAMPLES=False
export AIRFLOW__CORE__DEFAULT_TIMEZONE=Asia/Shanghai
export AIRFLOW__CORE__UNIT_TEST_MODE=False
export AIRFLOW__DATABASE__SQL_ALCHEMY_CONN=sqlite:///$VAR/airflow/airflow.db
# The UI's pages check roles through the FAB auth manager (database users; docs/ui.md)
export AIRFLOW__CORE__AUTH_MANAGER=airflow.providers.fab.auth_manager.fab_auth_manager.FabAuthManager
export AIRFLOW__LOGGING__LOGGING_LEVEL=${AIRFLOW__LOGGING__LOGGING_LEVEL:-WARNING}
export PYTHONPATH=$ROOT/include${PYTHONPATH:+:$PYTHONPATH}
export LR_REPORT_DIR=$VAR/reports
export LR_SENDING_HOURS=${LR_SENDING_HOURS:-0-24}
export LR_RETRY_WAIT=${LR_RETRY_WAIT:-5}
# where `catalogue publish` pages would be served: every reminder links to its entry's page there
export LR_CATALOGUE_URL=${LR_CATALOGUE_URL:-https://zwfw.example.gov.cn/tx}
export AIRFLOW_CONN_LICENCE_LEDGER="{\"conn_type\": \"sqlite\", \"host\": \"$VAR/ledger.db\"}"
export AIRFLOW_CONN_SRC_SCJGJ="{\"conn_type\": \"sqlite\", \"host\": \"$VAR/sources/scjgj.db\"}"
export AIRFLOW_CONN_SRC_JTYSJ="{\"conn_type\": \"sqlite\", \"host\": \"$VAR/sources/jtysj.db\"}"
# The key of identity-number digests (docs/security.md), made once per demo folder, kept 0600
if [ ! -s "$VAR/pii_keys.json" ]; then
  mkdir -p "$VAR" && (umask 077 && "$ROOT/.venv/bin/python" -m licence_reminder.protect new-key > "$VAR/pii_keys.json")
fi
export AIRFLOW_CONN_LR_PII_KEYS="{\"conn_type\": \"generic\", \"extra\": $(cat "$VAR/pii_keys.json")}"
export LR_DEMO_PROVIDER=${LR_DEMO_PROVIDER:-aliyun}
demo_gateway_conn() {  # $1: simulator port; the connections are the simulator's own, for LR_DEMO_PROVIDER and WeChat
  AIRFLOW_CONN_SMS_GATEWAY=$("$ROOT/.venv/bin/python" -m licence_reminder.simulator --port "$1" --print-conn "$LR_DEMO_PROVIDER") || return 1
  AIRFLOW_CONN_WECHAT_MINIPROGRAM=$("$ROOT/.venv/bin/python" -m licence_reminder.simulator --port "$1" --print-conn wechat_miniprogram) || return 1
  export AIRFLOW_CONN_SMS_GATEWAY AIRFLOW_CONN_WECHAT_MINIPROGRAM
}
# Channels beside SMS (docs/channels.md): the demo's catalogues are a copy in which the market
# regulator's entries also use the mini-program and in-system prompts (demo.sh writes it); the
# channels API's callers, with the demo's published tokens (never real ones).
export LR_CATALOGUE_DIR=${LR_CATALOGUE_DIR:-$VAR/catalogues}
export AIRFLOW_CONN_LR_CLIENT_DEMO_MINIAPP='{"conn_type": "generic", "password": "demo-miniapp-token-not-a-secret", "extra": {"scopes": ["consents"]}}'
export AIRFLOW_CONN_LR_CLIENT_DEMO_SCJGJ_BIZ='{"conn_type": "generic", "password": "demo-scjgj-biz-token-not-a-secret", "extra": {"scopes": ["prompts:scjgj"]}}'
