"""make prod-check: the production shape of docker-compose.yaml, run for real on this host.

    python scripts/prod-check.py                 # the check (make prod-check)
    python scripts/prod-check.py secrets DIR     # the secret files docker-compose.yaml mounts

Starts, as host processes in sessions of their own, what the compose file starts as containers:
Airflow's api-server, scheduler, dag-processor, triggerer and two Celery workers (CeleryExecutor,
PostgreSQL metadata in a database of its own, the local Redis under a key prefix of its own), the
ledger in a MariaDB database and account of its own, and the SMS simulator. The same commands, the
same settings (``AIRFLOW_SERVICES``, ``INIT``, ``SETTINGS``, ``SECRET_SETTINGS``:
tests/unit/test_compose.py keeps the compose file in step) and the same secrets layout: every
password lives in a secret file (Airflow's ``_CMD`` settings, and its local-filesystem secrets
backend for the connections), none in the environment.

The auth manager is FAB's, with the UI's roles and an administrator made by init (its password
in a secret file too); after day 1, users of two roles made through FAB's user API log in and get
their pages and a 403 for the rest.

Then three departments (the demo's two and ``wsjkw``) and the dispatch run a day under the
scheduler, not ``dags test``:

1. day 1 (yesterday): the syncs and the dispatch as scheduled runs (their cron set to yesterday's
   weekday at a minute just past: with catchup off, unpausing a DAG runs it once, for that
   moment, and not again for a week), with a slow gateway; one worker's whole session is killed
   with SIGKILL in the middle of a send. Checked: the day's runs succeeded, tasks ran on both
   workers, every message reached the simulator exactly once and is recorded sent, audited.
2. day 2 (today; runs triggered with explicit logical dates, the sources a day on): only the main
   process of the worker sending is killed, so its task process goes on as an orphan while
   Airflow retries the task; the send lease (docs/adr/0201-send-shard-lease.md) must leave 0
   duplicates. (Airflow refuses runs dated in the future, hence yesterday and today.)

Everything it started is stopped (by session), and its databases, account, Redis keys and files
removed, whether it passes or fails. Prints one line per check and a final verdict.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parents[1]
TZ = ZoneInfo("Asia/Shanghai")

# ----------------------------------------------------------------------------- the shape
#: docker-compose.yaml service -> its command (the image's entrypoint runs ``airflow <command>``)
AIRFLOW_SERVICES: dict[str, list[str]] = {
    "airflow-apiserver": ["api-server"],
    "airflow-scheduler": ["scheduler"],
    "airflow-dag-processor": ["dag-processor"],
    "airflow-triggerer": ["triggerer"],
    # two workers on one host need names of their own (in containers the host names differ anyway)
    "airflow-worker-1": ["celery", "worker", "--celery-hostname", "w1@%h"],
    "airflow-worker-2": ["celery", "worker", "--celery-hostname", "w2@%h"],
}
#: what airflow-init runs once, in this order
INIT: list[list[str]] = [
    ["airflow", "db", "migrate"],
    ["airflow", "pools", "set", "sms_gateway", "4", "SMS gateway concurrency"],
    ["python", "-m", "licence_reminder.cli", "db", "upgrade"],
    # the UI's roles for every registered department, and the administrator (password: a secret)
    ["python", "-m", "licence_reminder.ui.roles", "--admin", "admin"],
]
SIMULATOR = ["python", "-m", "licence_reminder.simulator"]

#: settings of every Airflow process, with the same values in docker-compose.yaml
SETTINGS: dict[str, str] = {
    "AIRFLOW__CORE__EXECUTOR": "CeleryExecutor",
    # database users and roles (docs/adr/0301-ui-auth-manager-and-roles.md); its tables are made
    # by `airflow db migrate`
    "AIRFLOW__CORE__AUTH_MANAGER": "airflow.providers.fab.auth_manager.fab_auth_manager.FabAuthManager",
    "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "true",
    "AIRFLOW__CORE__LOAD_EXAMPLES": "false",
    "AIRFLOW__CORE__DEFAULT_TIMEZONE": "Asia/Shanghai",
    "AIRFLOW__SCHEDULER__ENABLE_HEALTH_CHECK": "true",
    # a sync holds about 1 GiB at its peak: four at once per worker
    "AIRFLOW__CELERY__WORKER_CONCURRENCY": "4",
    # connections (ledger, gateway, department sources) come from a secret file
    "AIRFLOW__SECRETS__BACKEND": "airflow.secrets.local_filesystem.LocalFilesystemBackend",
    "AIRFLOW__WORKERS__SECRETS_BACKEND": "airflow.secrets.local_filesystem.LocalFilesystemBackend",
}
#: settings whose value says where things are (paths, hosts, ports): set by both, valued apart
PLACED: tuple[str, ...] = (
    "AIRFLOW__CORE__DAGS_FOLDER",
    "AIRFLOW__CORE__PLUGINS_FOLDER",
    "PYTHONPATH",
    "AIRFLOW__CELERY__BROKER_URL",
    "AIRFLOW__CORE__EXECUTION_API_SERVER_URL",
    "AIRFLOW__SECRETS__BACKEND_KWARGS",
    "AIRFLOW__WORKERS__SECRETS_BACKEND_KWARGS",
    "LR_UI_ADMIN_PASSWORD_FILE",
    "LR_REPORT_DIR",
    "LR_WORK_DIR",
    "LR_CATALOGUE_URL",
)
#: secret file -> the setting that reads it (``cat`` by Airflow's ``_CMD``); None: read otherwise
SECRET_SETTINGS: dict[str, str | None] = {
    "airflow_db_url": "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN_CMD",
    "airflow_result_backend": "AIRFLOW__CELERY__RESULT_BACKEND_CMD",
    "airflow_fernet_key": "AIRFLOW__CORE__FERNET_KEY_CMD",
    "airflow_jwt_secret": "AIRFLOW__API_AUTH__JWT_SECRET_CMD",
    "airflow_api_secret_key": "AIRFLOW__API__SECRET_KEY_CMD",
    "airflow_connections.json": None,  # the secrets backend's connections file (JSON)
    "airflow_admin_password": None,  # the UI's first administrator's, read by airflow-init
}
#: only here, and why: things a check needs that production must not copy
CHECK_ONLY: dict[str, str] = {
    "AIRFLOW__SCHEDULER__TASK_INSTANCE_HEARTBEAT_TIMEOUT": "30",  # a dead worker's task retried sooner
    "AIRFLOW__API__WORKERS": "1",  # memory: one API worker serves a check
    "LR_SENDING_HOURS": "0-24",  # the check runs at any hour
    "PYTHONUNBUFFERED": "1",  # the workers' logs are read while they run
}

SHARDS = 2
DEPARTMENTS = ("scjgj", "jtysj", "wsjkw")
ROWS = 400
#: the slow gateway: each send held this long (a send task of ~20 messages takes ~10 s)
GATEWAY_DELAY = 0.5
#: slower on day 2: the orphan must still be sending ~40 s after the kill, when the retry starts
ORPHAN_GATEWAY_DELAY = 3.0


# ----------------------------------------------------------------------------- output
def say(text: str) -> None:
    print(text, flush=True)


class CheckFailed(Exception):
    pass


def check(ok: bool, what: str, detail: str = "") -> None:
    say(f"  {'ok  ' if ok else 'FAIL'} {what}{': ' + detail if detail else ''}")
    if not ok:
        raise CheckFailed(what + (f": {detail}" if detail else ""))


# ----------------------------------------------------------------------------- processes
def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def session_members(sid: int) -> list[int]:
    """Every live process of session ``sid`` (a worker's pool children and task processes too)."""
    out = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()
        if int(fields[3]) == sid and fields[0] != "Z":
            out.append(int(entry.name))
    return out


def kill_session(sid: int, sig: int) -> None:
    for pid in session_members(sid):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, sig)


class Processes:
    """Long-running processes, each the leader of a session of its own; stopped by session."""

    def __init__(self, logs: Path) -> None:
        self.logs = logs
        self.started: dict[str, subprocess.Popen[bytes]] = {}
        #: sessions of processes killed on purpose, whose leftovers (an orphaned task, the log
        #: server) are stopped at the end
        self.abandoned: list[int] = []

    def start(self, name: str, argv: list[str], env: dict[str, str]) -> subprocess.Popen[bytes]:
        log = open(self.logs / f"{name}.log", "ab")  # noqa: SIM115 - the process keeps it
        proc = subprocess.Popen(
            argv,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
            cwd=ROOT,
        )
        log.close()
        self.started[name] = proc
        return proc

    def stop(self, name: str, sig: int = signal.SIGTERM, wait: float = 20.0) -> None:
        proc = self.started.pop(name, None)
        if proc is None:
            return
        kill_session(proc.pid, sig)
        deadline = time.monotonic() + wait
        while session_members(proc.pid) and time.monotonic() < deadline:
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=0.2)
        kill_session(proc.pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=5)

    def abandon(self, name: str) -> int:
        """Forget a process killed on purpose (its session is stopped at the end)."""
        sid = self.started.pop(name).pid
        self.abandoned.append(sid)
        return sid

    def stop_all(self) -> None:
        for name in list(self.started):  # SIGTERM to all first: they stop in parallel
            kill_session(self.started[name].pid, signal.SIGTERM)
        for name in list(self.started):
            self.stop(name)
        for sid in self.abandoned:  # setproctitle hides their environment: found by session
            kill_session(sid, signal.SIGKILL)


# ----------------------------------------------------------------------------- resources
def sh(*argv: str, env: dict[str, str] | None = None, check_rc: bool = True) -> str:
    out = subprocess.run(argv, env=env, capture_output=True, text=True, cwd=ROOT, check=False)
    if check_rc and out.returncode != 0:
        raise CheckFailed(
            f"{' '.join(argv[:4])} … exited {out.returncode}: {(out.stderr or out.stdout)[-2000:]}"
        )
    return out.stdout


def mariadb(statement: str) -> str:
    return sh("mariadb", "-h127.0.0.1", "-uroot", "-N", "-e", statement)


def psql(statement: str) -> str:
    return sh("psql", "-h", "127.0.0.1", "-U", "postgres", "-d", "postgres", "-Atc", statement)


def redis_cli(url_port: int, *args: str) -> str:
    return sh("redis-cli", "-h", "127.0.0.1", "-p", str(url_port), *args)


class Resources:
    """Databases, an account, Redis keys and a folder of its own; all removed by ``drop``."""

    def __init__(self, run_id: str, work: Path) -> None:
        self.run_id, self.work = run_id, work
        self.name = f"lr_prodcheck_{run_id}"
        self.ledger_password = secrets.token_urlsafe(18)
        self.redis_port = 6379
        self.redis_prefix = f"lr-prodcheck-{run_id}:"
        self.created: list[str] = []

    def create(self, procs: Processes) -> None:
        psql(f"CREATE DATABASE \"{self.name}\" ENCODING 'UTF8' TEMPLATE template0")
        self.created.append("postgres")
        mariadb(f"CREATE DATABASE `{self.name}` CHARACTER SET utf8mb4 COLLATE utf8mb4_bin")
        self.created.append("mariadb")
        # as config/mariadb-init does for the compose file: the auditor role once by root, and
        # an account owning only its ledger database
        mariadb("CREATE ROLE IF NOT EXISTS licence_auditor")
        mariadb(f"CREATE USER '{self.name}'@'127.0.0.1' IDENTIFIED BY '{self.ledger_password}'")
        self.created.append("account")
        mariadb(f"GRANT ALL ON `{self.name}`.* TO '{self.name}'@'127.0.0.1' WITH GRANT OPTION")
        if (
            subprocess.run(
                ["redis-cli", "-h", "127.0.0.1", "-p", "6379", "ping"],
                capture_output=True,
                text=True,
                check=False,
            ).stdout.strip()
            != "PONG"
        ):
            if not shutil.which("redis-server"):
                raise CheckFailed(
                    "Redis is not running on 127.0.0.1:6379 and redis-server is not "
                    "installed. Fix: apt-get install -y redis-server"
                )
            self.redis_port = free_port()  # a private one, gone with this check
            procs.start(
                "redis",
                [
                    "redis-server",
                    "--port",
                    str(self.redis_port),
                    "--bind",
                    "127.0.0.1",
                    "--save",
                    "",
                    "--appendonly",
                    "no",
                ],
                dict(os.environ),
            )
            wait_until(lambda: redis_cli(self.redis_port, "ping").strip() == "PONG", 20, "redis")

    def drop(self) -> None:
        if "postgres" in self.created:
            psql(
                f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{self.name}'"
            )
            psql(f'DROP DATABASE IF EXISTS "{self.name}"')
        if "mariadb" in self.created:
            for view in mariadb(
                "SELECT table_name FROM information_schema.table_privileges "
                f"WHERE table_schema = '{self.name}' AND grantee LIKE '%licence_auditor%'"
            ).split():
                mariadb(f"REVOKE SELECT ON `{self.name}`.`{view}` FROM licence_auditor")
            mariadb(f"DROP DATABASE IF EXISTS `{self.name}`")
        if "account" in self.created:
            mariadb(f"DROP USER IF EXISTS '{self.name}'@'127.0.0.1'")
        with contextlib.suppress(Exception):
            keys = redis_cli(
                self.redis_port, "--scan", "--pattern", f"{self.redis_prefix}*"
            ).split()
            for i in range(0, len(keys), 500):
                redis_cli(self.redis_port, "del", *keys[i : i + 500])


# ----------------------------------------------------------------------------- secrets
def secret_values(
    *,
    db_url_pg: str,
    ledger_url: str,
    gateway: dict[str, Any],
    sources: dict[str, dict[str, Any]],
    admin_password: str,
) -> dict[str, str]:
    """The content of each secret file (``SECRET_SETTINGS``)."""
    from cryptography.fernet import Fernet

    sys.path.insert(0, str(ROOT / "include"))
    from licence_reminder.protect import new_key_ring

    # the key of identity-number digests (docs/security.md): made once, with the other secrets
    connections = {
        "licence_ledger": ledger_url,
        "sms_gateway": gateway,
        "lr_pii_keys": {"conn_type": "generic", "extra": new_key_ring()},
        **sources,
    }
    return {
        "airflow_db_url": f"postgresql+psycopg2://{db_url_pg}",
        "airflow_result_backend": f"db+postgresql+psycopg2://{db_url_pg}",
        "airflow_fernet_key": Fernet.generate_key().decode(),
        "airflow_jwt_secret": secrets.token_urlsafe(32),
        "airflow_api_secret_key": secrets.token_urlsafe(32),
        "airflow_connections.json": json.dumps(connections, ensure_ascii=False, indent=2),
        "airflow_admin_password": admin_password,
    }


def write_secrets(folder: Path, values: dict[str, str]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    folder.chmod(0o700)
    for name, value in values.items():
        path = folder / name
        path.write_text(value, encoding="utf-8")  # no newline: Airflow's _CMD keeps it in the value
        path.chmod(0o600)


def secret_env(folder: Path) -> dict[str, str]:
    env = {setting: f"cat {folder / name}" for name, setting in SECRET_SETTINGS.items() if setting}
    kwargs = json.dumps({"connections_file_path": str(folder / "airflow_connections.json")})
    env["AIRFLOW__SECRETS__BACKEND_KWARGS"] = env["AIRFLOW__WORKERS__SECRETS_BACKEND_KWARGS"] = (
        kwargs
    )
    env["LR_UI_ADMIN_PASSWORD_FILE"] = str(folder / "airflow_admin_password")
    return env


def compose_secrets(folder: Path) -> None:
    """``secrets DIR``: the files docker-compose.yaml mounts, with fresh passwords; the gateway
    points at the compose file's simulator until a provider's keys replace it (docs/deploy.md)."""
    from urllib.parse import quote

    sys.path.insert(0, str(ROOT / "include"))
    from licence_reminder.simulator.server import airflow_connection

    pg, ledger, root = (secrets.token_urlsafe(18) for _ in range(3))
    values = secret_values(
        db_url_pg=f"airflow:{quote(pg)}@postgres/airflow",
        ledger_url=f"mysql://ledger:{quote(ledger)}@mariadb:3306/licence_ledger",
        gateway=airflow_connection("aliyun", "http://sms-simulator:8765"),
        sources={},
        admin_password=secrets.token_urlsafe(18),
    )
    values.update(postgres_password=pg, ledger_db_password=ledger, mariadb_root_password=root)
    write_secrets(folder, values)
    say(
        f"wrote {len(values)} secret files in {folder} (mode 0600); add your department sources "
        "to airflow_connections.json and, going live, the provider's gateway connection"
    )


# ----------------------------------------------------------------------------- Airflow's API
class Api:
    def __init__(self, base: str) -> None:
        self.base, self.token = base, ""

    def call(self, method: str, path: str, body: Any = None) -> Any:
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(
            f"{self.base}{path}",
            data=data,
            method=method,
            headers={
                "Content-Type": "application/json",
                **({"Authorization": f"Bearer {self.token}"} if self.token else {}),
            },
        )
        with urllib.request.urlopen(req, timeout=30) as resp:
            raw = resp.read()
        return json.loads(raw) if raw else None

    def login(self, user: str, password: str) -> None:
        self.token = self.call("POST", "/auth/token", {"username": user, "password": password})[
            "access_token"
        ]

    def status(self, method: str, path: str) -> int:
        """The HTTP status of a call whose answer is not wanted."""
        req = urllib.request.Request(
            f"{self.base}{path}", method=method, headers={"Authorization": f"Bearer {self.token}"}
        )
        try:
            with urllib.request.urlopen(req, timeout=30) as resp:
                return int(resp.status)
        except urllib.error.HTTPError as exc:
            return int(exc.code)

    def runs(self, dag_id: str) -> list[dict[str, Any]]:
        return self.call("GET", f"/api/v2/dags/{dag_id}/dagRuns?order_by=-logical_date&limit=20")[
            "dag_runs"
        ]

    def tis(self, dag_id: str, run_id: str) -> list[dict[str, Any]]:
        from urllib.parse import quote

        return self.call(
            "GET", f"/api/v2/dags/{dag_id}/dagRuns/{quote(run_id, safe='')}/taskInstances?limit=100"
        )["task_instances"]


def wait_until(predicate: Callable[[], Any], seconds: float, what: str, every: float = 1.0) -> Any:
    deadline = time.monotonic() + seconds
    last: Exception | None = None
    while time.monotonic() < deadline:
        try:
            value = predicate()
            if value:
                return value
        except (OSError, urllib.error.URLError, KeyError, ValueError, CheckFailed) as exc:
            last = exc
        time.sleep(every)
    raise CheckFailed(
        f"timed out after {seconds:.0f} s waiting for {what}"
        + (f" (last error: {last})" if last else "")
    )


# ----------------------------------------------------------------------------- the check
class ProdCheck:
    def __init__(self) -> None:
        self.run_id = uuid.uuid4().hex[:8]
        self.work = ROOT / "var" / "prod-check" / self.run_id
        self.logs = self.work / "logs"
        self.procs = Processes(self.logs)
        self.res = Resources(self.run_id, self.work)
        self.ports = {name: free_port() for name in ("api", "health", "w1", "w2", "triggerer")}
        self.fire = (dt.datetime.now(TZ) - dt.timedelta(days=1, minutes=3)).replace(
            second=0, microsecond=0
        )
        self.today = self.fire.date()
        #: yesterday's weekday at that minute: the latest time it fired when unpaused, not again soon
        self.cron = f"{self.fire.minute} {self.fire.hour} * * {self.fire.isoweekday() % 7}"
        self.env: dict[str, str] = {}
        self.sim = ""
        self.api = Api(f"http://127.0.0.1:{self.ports['api']}")

    # ------------------------------------------------------------------ set up
    def environment(self) -> dict[str, str]:
        venv = Path(sys.executable).parent
        airflow_home = self.work / "airflow"
        registry = self.work / "registry"
        env = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW", "LR_"))}
        env.update(SETTINGS)
        env.update(CHECK_ONLY)
        env.update(secret_env(self.work / "secrets"))
        env.update(
            {
                "PATH": f"{venv}:{env.get('PATH', '')}",
                "AIRFLOW_HOME": str(airflow_home),
                "AIRFLOW__CORE__DAGS_FOLDER": str(ROOT / "dags"),
                "AIRFLOW__CORE__PLUGINS_FOLDER": str(ROOT / "plugins"),
                "PYTHONPATH": str(ROOT / "include"),
                "AIRFLOW__CELERY__BROKER_URL": f"redis://127.0.0.1:{self.res.redis_port}/0",
                "AIRFLOW__CELERY_BROKER_TRANSPORT_OPTIONS__GLOBAL_KEYPREFIX": self.res.redis_prefix,
                "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"http://127.0.0.1:{self.ports['api']}/execution/",
                "AIRFLOW__API__HOST": "127.0.0.1",
                "AIRFLOW__API__PORT": str(self.ports["api"]),
                "AIRFLOW__SCHEDULER__SCHEDULER_HEALTH_CHECK_SERVER_PORT": str(self.ports["health"]),
                "AIRFLOW__LOGGING__TRIGGER_LOG_SERVER_PORT": str(self.ports["triggerer"]),
                "LR_REPORT_DIR": str(self.work / "reports"),
                "LR_WORK_DIR": str(self.work / "work"),
                # where the catalogue pages the reminders link to would be served
                "LR_CATALOGUE_URL": "https://zwfw.example.gov.cn/tx",
                "LR_REGISTRY_DIR": str(registry / "departments"),
                "LR_DISPATCH_SCHEDULE": self.cron,
            }
        )
        return env

    def registry(self) -> None:
        """The project's departments and the demo's third, scheduled at ``self.cron``."""
        sys.path.insert(0, str(ROOT / "include"))
        from licence_reminder.demo.sources import REGISTRY_DIR

        cron = self.cron
        for kind in ("departments", "catalogues"):
            target = self.work / "registry" / kind
            target.mkdir(parents=True)
            for folder in (ROOT / "include" / "registry" / kind, REGISTRY_DIR / kind):
                for path in folder.iterdir():
                    text = path.read_text(encoding="utf-8")
                    if kind == "departments" and path.suffix == ".yaml":
                        lines = [
                            f'    schedule: "{cron}"' if ln.strip().startswith("schedule:") else ln
                            for ln in text.splitlines()
                        ]
                        text = "\n".join(lines) + "\n"
                    (target / path.name).write_text(text, encoding="utf-8")

    def seed_sources(self, today: dt.date) -> None:
        sh(
            sys.executable,
            "-m",
            "licence_reminder.demo.sources",
            "--out-dir",
            str(self.work / "sources"),
            "--today",
            today.isoformat(),
            "--rows",
            str(ROWS),
            "--departments",
            *DEPARTMENTS,
            env={**os.environ, "PYTHONPATH": str(ROOT / "include")},
        )

    def start_simulator(self) -> None:
        port_file = self.work / "simulator.port"
        self.procs.start(
            "sms-simulator",
            [
                sys.executable,
                *SIMULATOR[1:],
                "--host",
                "127.0.0.1",
                "--port",
                "0",
                "--port-file",
                str(port_file),
            ],
            {**os.environ, "PYTHONPATH": str(ROOT / "include"), "PYTHONUNBUFFERED": "1"},
        )
        wait_until(lambda: port_file.exists() and port_file.read_text(), 20, "the SMS simulator")
        self.sim = f"http://127.0.0.1:{port_file.read_text()}"

    def sim_call(self, method: str, path: str, body: Any = None) -> Any:
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(
            f"{self.sim}{path}",
            data=data,
            method=method,
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(req, timeout=30) as resp:
            return json.loads(resp.read())

    def admin_login(self) -> tuple[str, str]:
        """The administrator init made (``licence_reminder.ui.roles --admin``), whose password is
        only in its secret file: the account this check drives Airflow's API with."""
        return "admin", (self.work / "secrets" / "airflow_admin_password").read_text()

    def check_roles(self) -> None:
        """The FAB auth manager in charge: the administrator makes users of two of the UI's roles
        through FAB's user API, each logs in at the token endpoint, and gets what its role holds
        and a 403 for the rest (ADR 0301)."""
        t = time.monotonic()
        users = {
            "auditor": ("lr_auditor", "an auditor"),
            "callstaff_scjgj": ("lr_call_staff_scjgj", "scjgj's call staff"),
        }
        answers: dict[str, dict[str, int]] = {}
        for name, (role, _) in users.items():
            password = secrets.token_urlsafe(18)  # check-only users, gone with the database
            self.api.call(
                "POST",
                "/auth/fab/v1/users",
                {
                    "username": f"check_{name}",
                    "password": password,
                    "email": f"{name}@prod-check.invalid",
                    "first_name": name,
                    "last_name": "prod-check",
                    "roles": [{"name": role}],
                },
            )
            user = Api(self.api.base)
            user.login(f"check_{name}", password)
            answers[name] = {
                path: user.status("GET", path)
                for path in (
                    "/licence-reminder/delivery-log",
                    "/licence-reminder/call-list",
                    "/licence-reminder/review?dept=scjgj",
                    "/api/v2/dags",
                )
            }
        expected = {
            "auditor": {
                "/licence-reminder/delivery-log": 200,
                "/licence-reminder/call-list": 200,
                "/licence-reminder/review?dept=scjgj": 200,
                "/api/v2/dags": 403,
            },
            "callstaff_scjgj": {
                "/licence-reminder/delivery-log": 403,
                "/licence-reminder/call-list": 200,
                "/licence-reminder/review?dept=scjgj": 403,
                "/api/v2/dags": 403,
            },
        }
        check(
            answers == expected,
            "FAB auth manager: users of the UI's roles log in; each gets its pages, 403 elsewhere",
            "; ".join(
                f"{users[n][1]}: " + ", ".join(f"{p} {c}" for p, c in a.items())
                for n, a in answers.items()
            )
            + f" ({time.monotonic() - t:.0f} s)",
        )

    def set_up(self) -> None:
        say(
            f"== prod-check {self.run_id}: files in {self.work.relative_to(ROOT)}, day 1 = {self.today} "
            f"(scheduled at {self.fire:%H:%M} Asia/Shanghai)"
        )
        self.logs.mkdir(parents=True)
        self.res.create(self.procs)
        self.registry()
        self.seed_sources(self.today)
        self.start_simulator()
        from licence_reminder.simulator.server import airflow_connection

        sources = {
            f"src_{code}": {
                "conn_type": "sqlite",
                "host": str(self.work / "sources" / f"{code}.db"),
            }
            for code in DEPARTMENTS
        }
        write_secrets(
            self.work / "secrets",
            secret_values(
                db_url_pg=f"postgres@127.0.0.1:5432/{self.res.name}",
                ledger_url=f"mysql://{self.res.name}:{self.res.ledger_password}@127.0.0.1:3306/{self.res.name}",
                gateway=airflow_connection("aliyun", self.sim),
                sources=sources,
                admin_password=secrets.token_urlsafe(18),
            ),
        )
        self.env = self.environment()
        t = time.monotonic()
        for argv in INIT:
            exe = (
                sys.executable
                if argv[0] == "python"
                else str(Path(sys.executable).with_name("airflow"))
            )
            sh(exe, *argv[1:], env=self.env)
        say(f"  init ({' ; '.join(' '.join(a[:3]) for a in INIT)}) in {time.monotonic() - t:.0f} s")
        t = time.monotonic()
        airflow = str(Path(sys.executable).with_name("airflow"))
        for name, argv in AIRFLOW_SERVICES.items():
            env = dict(self.env)
            if name.startswith("airflow-worker"):  # each serves its task logs on a port of its own
                env["AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT"] = str(self.ports["w" + name[-1]])
            self.procs.start(name, [airflow, *argv], env)
        wait_until(
            lambda: (
                self.api.call("GET", "/api/v2/monitor/health")["scheduler"]["status"] == "healthy"
            ),
            180,
            "the api-server and a healthy scheduler",
        )
        self.api.login(*self.admin_login())
        dags = {f"sync_{c}" for c in DEPARTMENTS} | {"dispatch_reminders"}
        wait_until(
            lambda: (
                dags
                <= {d["dag_id"] for d in self.api.call("GET", "/api/v2/dags?limit=100")["dags"]}
            ),
            180,
            "the dag-processor to parse the DAGs",
        )
        for worker in ("w1", "w2"):
            wait_until(
                lambda w=worker: (
                    "ready"
                    in (self.logs / f"airflow-worker-{w[1]}.log").read_text(errors="replace")
                ),
                120,
                f"Celery worker {worker}",
            )
        say(
            f"  {len(AIRFLOW_SERVICES)} Airflow processes and the simulator up in {time.monotonic() - t:.0f} s"
        )

    # ------------------------------------------------------------------ runs
    def wait_run(
        self, dag_id: str, seconds: float, logical: dt.datetime | None = None
    ) -> dict[str, Any]:
        def done() -> dict[str, Any] | None:
            for run in self.api.runs(dag_id):
                if logical and dt.datetime.fromisoformat(run["logical_date"]) != logical:
                    continue
                if run["state"] in {"success", "failed"}:
                    return run
                return None
            return None

        return wait_until(done, seconds, f"{dag_id} to finish", every=2)

    def trigger(self, dag_id: str, logical: dt.datetime) -> None:
        self.api.call(
            "POST",
            f"/api/v2/dags/{dag_id}/dagRuns",
            {
                "logical_date": logical.isoformat(),
                "dag_run_id": f"prodcheck__{dag_id}__{logical:%Y%m%d}",
            },
        )

    def ran_on(self) -> dict[str, set[str]]:
        """Worker -> the task tries it executed (``dag/run/task[/map_index]/attempt``), from each
        worker's log of the workloads it ran."""
        out: dict[str, set[str]] = {}
        for w in ("1", "2"):
            for log in self.logs.glob(f"airflow-worker-{w}*.log"):
                for line in log.read_text(errors="replace").splitlines():
                    if "Executing workload in Celery" in line and "log_path='" in line:
                        path = line.split("log_path='", 1)[1].split("'", 1)[0]
                        out.setdefault(f"w{w}", set()).add(path.removesuffix(".log"))
        return out

    def send_in_flight(self, dag_id: str, run_id: str | None = None) -> dict[str, Any]:
        """A send task running with messages of the run already received and more to go."""
        before = len(self.sim_call("GET", "/_sim/messages"))

        def running() -> dict[str, Any] | None:
            runs = [r for r in self.api.runs(dag_id) if run_id in (None, r["dag_run_id"])]
            if not runs:
                return None
            for ti in self.api.tis(dag_id, runs[0]["dag_run_id"]):
                if (
                    ti["task_id"] == "send"
                    and ti["state"] == "running"
                    and ti.get("pid")
                    and Path(f"/proc/{ti['pid']}").exists()
                    and len(self.sim_call("GET", "/_sim/messages")) >= before + 2
                ):
                    return {**ti, "dag_run_id": runs[0]["dag_run_id"]}
            return None

        return wait_until(running, 300, "a send task in the middle of its shard", every=0.3)

    def session_of(self, pid: int) -> int:
        stat = Path(f"/proc/{pid}/stat").read_text()
        return int(stat.rsplit(")", 1)[1].split()[3])

    def restart_worker(self, name: str) -> None:
        airflow = str(Path(sys.executable).with_name("airflow"))
        env = dict(self.env)
        env["AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT"] = str(self.ports["w" + name[-1]])
        log = self.logs / f"{name}.log"
        log.rename(log.with_name(f"{name}-{int(time.time())}.log"))
        self.procs.start(name, [airflow, *AIRFLOW_SERVICES[name]], env)
        wait_until(lambda: "ready" in log.read_text(errors="replace"), 120, f"{name} to restart")

    # ------------------------------------------------------------------ checks
    def ledger(self, query: str) -> list[tuple[Any, ...]]:
        out = sh("mariadb", "-h127.0.0.1", "-uroot", "-N", "-B", self.res.name, "-e", query)
        return [tuple(line.split("\t")) for line in out.splitlines() if line]

    def check_exactly_once(self, label: str) -> int:
        accepted = [m["out_id"] for m in self.sim_call("GET", "/_sim/messages")]
        outbox = dict(self.ledger("SELECT id, status FROM outbox_message"))
        dupes = len(accepted) - len(set(accepted))
        unsettled = sorted({s for s in outbox.values() if s not in {"sent", "delivered"}})
        check(
            dupes == 0,
            f"{label}: no message reached the simulator twice",
            f"{len(accepted)} received, {dupes} duplicate(s)",
        )
        check(
            set(accepted) == set(outbox) and not unsettled,
            f"{label}: every message in the outbox was sent, exactly the ones the simulator received",
            f"{len(outbox)} in the outbox"
            + (f", still {unsettled}" if unsettled else "")
            + (
                f", {len(set(outbox) ^ set(accepted))} differ"
                if set(accepted) != set(outbox)
                else ""
            ),
        )
        audited = self.ledger(
            "SELECT COUNT(DISTINCT message_id) FROM delivery_attempt "
            "WHERE outcome IN ('accepted', 'recovered')"
        )[0][0]
        reminders = dict(
            self.ledger(
                "SELECT status, COUNT(*) FROM reminder WHERE message_id IS NOT NULL GROUP BY status"
            )
        )
        check(
            int(audited) == len(outbox) and set(reminders) <= {"sent", "delivered"},
            f"{label}: audit complete (an accepted or recovered attempt per message, every queued "
            "reminder sent)",
            f"{audited} audited, reminders {reminders}",
        )
        return len(outbox)

    def day1(self) -> None:
        say(
            "== day 1: scheduled syncs, then the dispatch; a worker killed (SIGKILL, whole session) mid-send"
        )
        self.sim_call("POST", "/_sim/faults", {"rules": [], "delay_seconds": GATEWAY_DELAY})
        for code in DEPARTMENTS:
            self.api.call("PATCH", f"/api/v2/dags/sync_{code}", {"is_paused": False})
        syncs = {code: self.wait_run(f"sync_{code}", 600) for code in DEPARTMENTS}
        check(
            all(r["state"] == "success" for r in syncs.values()),
            "three departments' syncs ran as scheduled and succeeded",
            ", ".join(
                f"{c} {r['state']} ({dt.datetime.fromisoformat(r['logical_date']).astimezone(TZ):%m-%d %H:%M})"
                for c, r in syncs.items()
            ),
        )
        self.api.call("PATCH", "/api/v2/dags/dispatch_reminders", {"is_paused": False})
        ti = self.send_in_flight("dispatch_reminders")
        sid = self.session_of(int(ti["pid"]))
        victim = next(n for n, p in self.procs.started.items() if p.pid == sid)
        sent_before = len(self.sim_call("GET", "/_sim/messages"))
        kill_session(sid, signal.SIGKILL)
        self.procs.abandon(victim)
        say(
            f"  killed {victim} (session {sid}: {victim}, its pool and task processes) while send[{ti['map_index']}] "
            f"was sending; {sent_before} message(s) received so far"
        )
        self.restart_worker(victim)
        run = self.wait_run("dispatch_reminders", 900)
        tis = self.api.tis("dispatch_reminders", run["dag_run_id"])
        sends = [t for t in tis if t["task_id"] == "send"]
        check(
            run["state"] == "success",
            "the day's dispatch ended in success after the kill",
            "send tries "
            + ", ".join(f"[{t['map_index']}] {t['try_number']} {t['state']}" for t in sends),
        )
        ran_on = self.ran_on()
        check(
            set(ran_on) == {"w1", "w2"},
            "tasks spread over both workers",
            "; ".join(
                f"{w}: {len(ts)} task tries ({', '.join(sorted({p.split('/')[0][7:] for p in ts}))})"
                for w, ts in sorted(ran_on.items())
            ),
        )
        self.check_exactly_once("day 1")

    def day2(self) -> None:
        say(
            "== day 2: the sources a day on, triggered runs; the sending worker's main process killed, "
            "its task going on as an orphan while the task is retried"
        )
        day2 = self.fire + dt.timedelta(days=1)
        self.seed_sources(day2.date())
        for code in DEPARTMENTS:
            self.trigger(f"sync_{code}", day2)
        syncs = {code: self.wait_run(f"sync_{code}", 600, day2) for code in DEPARTMENTS}
        check(
            all(r["state"] == "success" for r in syncs.values()),
            "day 2's syncs succeeded",
            ", ".join(f"{c} {r['state']}" for c, r in syncs.items()),
        )
        # slower still: the orphan must be sending when the retry starts
        self.sim_call("POST", "/_sim/faults", {"rules": [], "delay_seconds": ORPHAN_GATEWAY_DELAY})
        self.trigger("dispatch_reminders", day2)
        run_id = f"prodcheck__dispatch_reminders__{day2:%Y%m%d}"
        ti = self.send_in_flight("dispatch_reminders", run_id)
        orphan, sid = int(ti["pid"]), self.session_of(int(ti["pid"]))
        victim = next(n for n, p in self.procs.started.items() if p.pid == sid)
        os.kill(sid, signal.SIGKILL)  # the worker's main process only
        killed_at = time.monotonic()
        say(
            f"  killed the main process of {victim} (pid {sid}) while send[{ti['map_index']}] was sending; "
            f"its task process {orphan} goes on"
        )
        self.procs.abandon(victim)
        self.restart_worker(victim)

        def state() -> str:
            return next(
                t["state"]
                for t in self.api.tis("dispatch_reminders", run_id)
                if t["task_id"] == "send" and t["map_index"] == ti["map_index"]
            )

        # the scheduler gives the try up after the heartbeat timeout; the operator clears it
        # rather than wait the DAG's retry_delay, as one does when a worker died
        wait_until(lambda: state() != "running", 300, "the scheduler to give the lost try up")
        self.api.call(
            "POST",
            "/api/v2/dags/dispatch_reminders/clearTaskInstances",
            {
                "dry_run": False,
                "dag_run_id": run_id,
                "task_ids": [["send", ti["map_index"]]],
                "only_failed": False,
                "reset_dag_runs": False,
            },
        )
        orphan_alive = Path(f"/proc/{orphan}").exists()
        say(
            f"  the try given up and cleared {time.monotonic() - killed_at:.0f} s after the kill; the orphan "
            f"{'is still sending' if orphan_alive else 'had finished'}"
        )
        run = self.wait_run("dispatch_reminders", 900, day2)
        tis = self.api.tis("dispatch_reminders", run["dag_run_id"])
        sends = {t["map_index"]: t for t in tis if t["task_id"] == "send"}
        check(
            run["state"] == "success",
            "day 2's dispatch ended in success",
            "send tries "
            + ", ".join(f"[{i}] {t['try_number']} {t['state']}" for i, t in sorted(sends.items())),
        )
        wait_until(lambda: not Path(f"/proc/{orphan}").exists(), 120, "the orphan to stop")
        logs = (
            self.work
            / "airflow"
            / "logs"
            / "dag_id=dispatch_reminders"
            / f"run_id={run_id}"
            / "task_id=send"
        )
        retry_log = "".join(
            p.read_text(errors="replace")
            for p in logs.glob(f"map_index={ti['map_index']}/attempt=*.log")
            if not p.name.endswith("attempt=1.log")
        )
        took_over = "taken over from" in retry_log
        if orphan_alive:
            check(
                took_over,
                "the retry took the shard over from the orphan and waited out its call in flight",
            )
        self.check_exactly_once("days 1 and 2")

    def tear_down(self, passed: bool) -> None:
        self.procs.stop_all()
        self.res.drop()
        shutil.rmtree(self.work / "secrets", ignore_errors=True)
        if passed:
            shutil.rmtree(self.work, ignore_errors=True)
        else:
            say(
                f"  logs kept in {self.work.relative_to(ROOT)}/logs and {self.work.relative_to(ROOT)}/airflow/logs"
            )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command")
    sec = sub.add_parser("secrets", help="write the secret files docker-compose.yaml mounts")
    sec.add_argument("dir", type=Path)
    args = parser.parse_args(argv)
    if args.command == "secrets":
        compose_secrets(args.dir)
        return 0
    sys.path.insert(0, str(ROOT / "include"))
    run = ProdCheck()

    def stop(signum: int, _frame: Any) -> None:
        raise SystemExit(128 + signum)

    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(sig, stop)
    started, passed = time.monotonic(), False
    try:
        run.set_up()
        run.day1()
        run.check_roles()  # the department-scoped pages list the departments the ledger holds
        run.day2()
        passed = True
    except CheckFailed as exc:
        say(f"prod-check FAILED: {exc}")
    finally:
        run.tear_down(passed)
    say(
        f"prod-check {'PASSED' if passed else 'FAILED'} in {time.monotonic() - started:.0f} s "
        "(everything it started is stopped and removed)"
    )
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main())
