"""Shared fixtures: real MariaDB and PostgreSQL on 127.0.0.1, Airflow pointed at a temp home.

Tests that need a server fail loudly — with the command that fixes it — when it is not there.
They never skip.
"""

from __future__ import annotations

import json
import os
import socket
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

#: the UI's running API server (tests/ui), started once per session when a test asks for it
pytest_plugins = [
    "support.ui_server",
    "support.ledger_world",
    "support.dispatch_world",
    "support.alert_sinks",
    "support.registry_files",
]

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "include"))

MYSQL_HOST = os.environ.get("LR_TEST_MYSQL_HOST", "127.0.0.1")
MYSQL_PORT = int(os.environ.get("LR_TEST_MYSQL_PORT", "3306"))
PG_HOST = os.environ.get("LR_TEST_PG_HOST", "127.0.0.1")
PG_PORT = int(os.environ.get("LR_TEST_PG_PORT", "5432"))

FIX_MARIADB = "start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd"
FIX_PG = "pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start"

# Airflow must never touch a developer's own ~/airflow from the tests.
_AIRFLOW_HOME = Path(os.environ.get("LR_TEST_AIRFLOW_HOME", ROOT / "var" / "test-airflow"))
_AIRFLOW_HOME.mkdir(parents=True, exist_ok=True)
os.environ.setdefault("AIRFLOW_HOME", str(_AIRFLOW_HOME))
os.environ.setdefault("AIRFLOW__CORE__LOAD_EXAMPLES", "False")
os.environ.setdefault("AIRFLOW__CORE__DAGS_FOLDER", str(ROOT / "dags"))
os.environ.setdefault("AIRFLOW__CORE__PLUGINS_FOLDER", str(ROOT / "plugins"))
os.environ.setdefault(
    "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN", f"sqlite:///{_AIRFLOW_HOME}/airflow.db"
)
os.environ.setdefault("PYTHONPATH", str(ROOT / "include"))
#: the key ring of identity-number digests (protect.py): a test key, known to every test
TEST_PII_KEYS = {
    "current": "test1",
    "keys": {"test1": "dGVzdC1rZXktb2YtdGhlLXRlc3RzLW5vdC1hLXNlY3JldA=="},
}
os.environ.setdefault(
    "AIRFLOW_CONN_LR_PII_KEYS", json.dumps({"conn_type": "generic", "extra": TEST_PII_KEYS})
)


def _reachable(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=2):
            return True
    except OSError:
        return False


def require_mariadb() -> None:
    if not _reachable(MYSQL_HOST, MYSQL_PORT):
        pytest.fail(
            f"MariaDB is not reachable on {MYSQL_HOST}:{MYSQL_PORT}. Start it: {FIX_MARIADB}",
            pytrace=False,
        )


def require_postgres() -> None:
    if not _reachable(PG_HOST, PG_PORT):
        pytest.fail(
            f"PostgreSQL is not reachable on {PG_HOST}:{PG_PORT}. Start it: {FIX_PG}", pytrace=False
        )


def mysql_url(database: str = "") -> str:
    return f"mysql+pymysql://root@{MYSQL_HOST}:{MYSQL_PORT}/{database}?charset=utf8mb4"


def pg_url(database: str = "postgres") -> str:
    return f"postgresql+psycopg2://postgres@{PG_HOST}:{PG_PORT}/{database}"


@pytest.fixture
def mariadb_factory() -> Iterator:
    """Makes fresh, uniquely named MariaDB databases (returns each URL); all dropped afterwards."""
    require_mariadb()
    import pymysql
    from licence_reminder.db import engine_for

    admin = pymysql.connect(host=MYSQL_HOST, port=MYSQL_PORT, user="root", password="")
    names: list[str] = []

    def create() -> str:
        name = f"lr_test_{uuid.uuid4().hex[:10]}"
        with admin.cursor() as cur:
            cur.execute(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4 COLLATE utf8mb4_bin")
        names.append(name)
        return mysql_url(name)

    try:
        yield create
    finally:
        engine_for.cache_clear()
        with admin.cursor() as cur:
            for name in names:
                # DROP DATABASE keeps grants: take the auditor role's back so they do not pile up
                cur.execute(
                    "SELECT table_name FROM information_schema.table_privileges "
                    "WHERE table_schema = %s AND grantee LIKE %s",
                    (name, "%licence_auditor%"),
                )
                for (view,) in cur.fetchall():
                    cur.execute(f"REVOKE SELECT ON `{name}`.`{view}` FROM licence_auditor")
                cur.execute(f"DROP DATABASE IF EXISTS `{name}`")
        admin.close()


@pytest.fixture
def mariadb_database(mariadb_factory) -> str:  # type: ignore[no-untyped-def]
    """A fresh, uniquely named MariaDB database; its URL. Dropped afterwards."""
    return mariadb_factory()


@pytest.fixture
def postgres_database() -> Iterator[str]:
    """A fresh, uniquely named PostgreSQL database; its URL. Dropped afterwards."""
    require_postgres()
    import psycopg2

    name = f"lr_test_{uuid.uuid4().hex[:10]}"
    admin = psycopg2.connect(host=PG_HOST, port=PG_PORT, user="postgres", dbname="postgres")
    admin.autocommit = True
    try:
        with admin.cursor() as cur:
            cur.execute(f"CREATE DATABASE \"{name}\" ENCODING 'UTF8' TEMPLATE template0")
        yield pg_url(name)
    finally:
        from licence_reminder.db import engine_for

        engine_for.cache_clear()
        with admin.cursor() as cur:
            cur.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s", (name,)
            )
            cur.execute(f'DROP DATABASE IF EXISTS "{name}"')
        admin.close()


@pytest.fixture
def ledger_mariadb(mariadb_database: str):  # type: ignore[no-untyped-def]
    """A migrated MariaDB ledger engine."""
    from licence_reminder import schema
    from licence_reminder.db import engine_from_url

    engine = engine_from_url(mariadb_database)
    schema.upgrade(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def ledger_sqlite(tmp_path: Path):  # type: ignore[no-untyped-def]
    from licence_reminder import schema
    from licence_reminder.db import engine_from_url

    engine = engine_from_url(f"sqlite:///{tmp_path / 'ledger.db'}")
    schema.upgrade(engine)
    yield engine
    engine.dispose()


def airflow_conn_json(url: str) -> str:
    """AIRFLOW_CONN_* JSON for a SQLAlchemy URL (tests only: the servers here have no password)."""
    import json

    from sqlalchemy.engine import make_url

    u = make_url(url)
    if u.drivername.startswith("sqlite"):
        return json.dumps({"conn_type": "sqlite", "host": u.database})
    conn_type = "mysql" if u.drivername.startswith("mysql") else "postgres"
    return json.dumps(
        {
            "conn_type": conn_type,
            "host": u.host,
            "port": u.port,
            "login": u.username,
            "password": u.password or "",
            "schema": u.database,
        }
    )


@pytest.fixture(autouse=True)
def _fresh_engine_cache() -> Iterator[None]:
    """Engines and gateway settings are cached per process: no test may see another's."""
    from licence_reminder.db import engine_for
    from licence_reminder.tasks import _gateway_config, _wechat_config

    engine_for.cache_clear()
    _gateway_config.cache_clear()
    _wechat_config.cache_clear()
    yield
    engine_for.cache_clear()
    _gateway_config.cache_clear()
    _wechat_config.cache_clear()


@pytest.fixture(scope="session")
def airflow_metadata_db() -> Path:
    """Airflow's own metadata DB (SQLite, in var/test-airflow) for dag.test(); migrated once."""
    import subprocess

    airflow = Path(sys.executable).with_name("airflow")
    out = subprocess.run(
        [str(airflow), "db", "migrate"],
        check=False,
        capture_output=True,
        text=True,
        env=dict(os.environ),
        timeout=600,
    )
    if out.returncode != 0:
        pytest.fail(f"airflow db migrate failed:\n{out.stdout[-2000:]}\n{out.stderr[-2000:]}")
    return _AIRFLOW_HOME


@pytest.fixture
def daily_world(
    mariadb_factory, airflow_metadata_db, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):  # type: ignore[no-untyped-def]
    """A migrated MariaDB ledger and the simulator, under the connection ids the DAGs use."""
    import json
    from types import SimpleNamespace

    from licence_reminder import schema
    from licence_reminder.db import engine_from_url
    from licence_reminder.simulator.server import start_in_thread

    ledger_url = mariadb_factory()
    ledger = engine_from_url(ledger_url)
    schema.upgrade(ledger)
    monkeypatch.setenv("AIRFLOW_CONN_LICENCE_LEDGER", airflow_conn_json(ledger_url))
    sim = start_in_thread()
    monkeypatch.setenv("AIRFLOW_CONN_SMS_GATEWAY", json.dumps(sim.connection("aliyun")))
    monkeypatch.setenv("LR_SENDING_HOURS", "0-24")
    monkeypatch.setenv("LR_REPORT_DIR", str(tmp_path / "reports"))
    monkeypatch.setenv("LR_RETRY_WAIT", "3")
    try:
        yield SimpleNamespace(ledger=ledger, sim=sim, reports=tmp_path / "reports")
    finally:
        sim.stop()
        ledger.dispose()


def load_dags(registry_dir: Path | None = None) -> dict:
    """Parse the project's DAG folder the way the dag-processor does; fail on import errors."""
    from airflow.dag_processing.dagbag import DagBag

    if registry_dir is not None:
        os.environ["LR_REGISTRY_DIR"] = str(registry_dir)
    bag = DagBag(dag_folder=str(ROOT / "dags"))
    assert bag.import_errors == {}, bag.import_errors
    return bag.dags
