"""What a sync that dies leaves behind, on MariaDB: a process killed with SIGKILL, a ledger
connection killed by the server mid-run.

The run is held mid-load from the test side: a session of the test locks ``staging_rejection``
(``LOCK TABLES … WRITE``), so that the run's loader waits on its first rejected rows while the
run writes the next batches' files — the moment a kill leaves the most behind.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import re
import signal
import stat
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pymysql
import pytest
import sqlalchemy as sa
from conftest import MYSQL_HOST, MYSQL_PORT, ROOT

TODAY = dt.date(2026, 11, 24)
CODE = "scjgj"

_CHILD = textwrap.dedent("""
    import datetime as dt, sys
    from pathlib import Path
    from licence_reminder import sync
    from licence_reminder.sync import plan as planning
    from licence_reminder.db import engine_from_url
    from licence_reminder.registry import catalogue_for, load_department

    root, ledger_url, source_url, code, run_id = sys.argv[1:]
    root = Path(root)
    dept = load_department(root / "include" / "registry" / "departments" / f"{code}.yaml")
    settings = dept.source.sync.model_copy(update={"chunk_size": 200})
    dept = dept.model_copy(update={"source": dept.source.model_copy(update={"sync": settings})})
    catalogue = catalogue_for(code, root / "include" / "registry" / "catalogues")
    ledger, source = engine_from_url(ledger_url), engine_from_url(source_url)
    today = dt.date(2026, 11, 24)
    planning.register_department(ledger, dept, catalogue)
    plan = planning.start_run(ledger, dept, run_id=run_id, logical_date=today, force_full=True)
    sync.run(ledger, source, dept, catalogue, plan, today=today)
""")


def _department():  # type: ignore[no-untyped-def]
    from licence_reminder.registry import catalogue_for, load_department

    dept = load_department(ROOT / "include" / "registry" / "departments" / f"{CODE}.yaml")
    settings = dept.source.sync.model_copy(update={"chunk_size": 200})
    dept = dept.model_copy(update={"source": dept.source.model_copy(update={"sync": settings})})
    return dept, catalogue_for(CODE, ROOT / "include" / "registry" / "catalogues")


@pytest.fixture
def world(mariadb_factory, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    """A migrated ledger, a seeded source of the department, the product's work folder in tmp."""
    from licence_reminder import schema
    from licence_reminder.db import engine_from_url
    from licence_reminder.demo.sources import seed_source

    ledger_url, source_url = mariadb_factory(), mariadb_factory()
    source = engine_from_url(source_url)
    seeded = seed_source(source, CODE, today=TODAY, n=3000, seed=7)
    ledger = engine_from_url(ledger_url)
    schema.upgrade(ledger)
    monkeypatch.setenv("LR_WORK_DIR", str(tmp_path / "work"))
    yield ledger, source, ledger_url, source_url, seeded, tmp_path / "work" / "sync" / CODE
    ledger.dispose()
    source.dispose()


def _admin(database: str) -> pymysql.Connection:
    return pymysql.connect(
        host=MYSQL_HOST,
        port=MYSQL_PORT,
        user="root",
        password="",
        database=database,
        autocommit=True,
    )


def _wait_for(what: str, ready: Callable[[], object], timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while not ready():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.05)


def _load_files(folder: Path) -> list[Path]:
    return sorted(folder.glob("run-*/*.tsv"))


def _settled_files(folder: Path) -> list[Path]:
    """The load files once the run, waiting for its loader, writes no more."""
    deadline = time.monotonic() + 60
    before: list[Path] = []
    while time.monotonic() < deadline:
        time.sleep(0.5)
        now = _load_files(folder)
        if now and now == before:
            return now
        before = now
    pytest.fail(f"the run kept writing files: {before}")


def _waiting_load(database: str) -> int | None:
    """The connection id of the run's loader waiting to load rejected rows, if it waits."""
    with _admin(database) as admin, admin.cursor() as cur:
        cur.execute(
            "SELECT id FROM information_schema.processlist WHERE db = %s "
            "AND info LIKE 'LOAD DATA%%staging_rejection%%'",
            (database,),
        )
        row = cur.fetchone()
    return None if row is None else int(row[0])


def _run_row(ledger: sa.Engine, run_id: str) -> tuple | None:
    with ledger.connect() as conn:
        row = conn.execute(
            sa.text("SELECT status, heartbeat_at, error FROM sync_run WHERE run_id = :r"),
            {"r": run_id},
        ).first()
    return None if row is None else tuple(row)


@pytest.fixture
def held_load(world) -> Iterator[pymysql.Connection]:  # type: ignore[no-untyped-def]
    """The test's session holding ``staging_rejection`` locked; unlocked at the end."""
    ledger = world[0]
    lock = _admin(ledger.url.database)
    with lock.cursor() as cur:
        cur.execute("LOCK TABLES staging_rejection WRITE")
    yield lock
    with lock.cursor() as cur:
        cur.execute("UNLOCK TABLES")
    lock.close()


@pytest.mark.mariadb
def test_a_killed_sync_is_closed_by_the_next_run_and_its_files_removed(world, held_load) -> None:  # type: ignore[no-untyped-def]
    from licence_reminder import sync
    from licence_reminder.sync import plan as planning
    from licence_reminder.sync.liveness import STALE_AFTER
    from licence_reminder.sync.workdir import RunFolder

    ledger, source, ledger_url, source_url, seeded, folder = world
    killed = f"{CODE}:killed"
    env = {**os.environ, "PYTHONPATH": str(ROOT / "include")}
    child = subprocess.Popen(
        [sys.executable, "-c", _CHILD, str(ROOT), ledger_url, source_url, CODE, killed],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        _wait_for(
            "the run to beat, and its loader to wait on the lock",
            lambda: (
                child.poll() is None
                and (_run_row(ledger, killed) or (None, None))[1] is not None
                and _waiting_load(ledger.url.database) is not None
            ),
        )
        files = _settled_files(folder)
        # the waiting load's (a busy machine may have written the next chunk's ledger file too)
        assert {"rejection", "warning"} <= {f.name.split("_")[1] for f in files}, files
        assert stat.S_IMODE(folder.stat().st_mode) == 0o700
        assert stat.S_IMODE(files[0].parent.stat().st_mode) == 0o700

        # alive: another run of the department neither closes it nor takes its files
        dept, catalogue = _department()
        planning.start_run(
            ledger, dept, run_id=f"{CODE}:beside", logical_date=TODAY, force_full=True
        )
        assert (_run_row(ledger, killed) or ())[:1] == ("running",)
        beside = RunFolder(CODE)
        beside.open()
        beside.close()
        assert set(files) <= set(_load_files(folder))  # a slow run may still add its next chunk's
        planning.fail_run(ledger, f"{CODE}:beside", "the test's run beside")

        text = b"".join(f.read_bytes() for f in files).decode()
        id_numbers = {
            v
            for r in seeded
            for v in r.native.values()
            if isinstance(v, str) and re.fullmatch(r"\d{17}[\dX]", v)
        }
        assert len(id_numbers) > 1000 and not any(n in text for n in id_numbers)

        child.send_signal(signal.SIGKILL)
        child.wait(timeout=30)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
    with held_load.cursor() as cur:
        cur.execute("UNLOCK TABLES")
    assert set(files) <= set(_load_files(folder))  # nobody removed them: the process was killed
    status, beat, error = _run_row(ledger, killed) or (None, None, None)
    assert (status, error) == ("running", None)

    # ten minutes without a beat pass (the test moves the run's clock back instead)
    with ledger.begin() as conn:
        conn.execute(
            sa.text(
                "UPDATE sync_run SET started_at = started_at - INTERVAL 11 MINUTE, "
                "heartbeat_at = heartbeat_at - INTERVAL 11 MINUTE WHERE run_id = :r"
            ),
            {"r": killed},
        )
    assert STALE_AFTER < dt.timedelta(minutes=11)
    plan = planning.start_run(
        ledger, dept, run_id=f"{CODE}:next", logical_date=TODAY, force_full=True
    )
    status, _, error = _run_row(ledger, killed) or (None, None, None)
    assert status == "failed"
    assert error.startswith(f"no heartbeat since {beat - dt.timedelta(minutes=11)}"), error

    result = sync.run(ledger, source, dept, catalogue, plan, today=TODAY)
    assert result.published.inserted > 2000
    assert (_run_row(ledger, f"{CODE}:next") or ())[:1] == ("success",)
    assert [p.name for p in folder.iterdir()] == [".lock"]  # the killed run's files and its own


@pytest.mark.mariadb
def test_a_lost_ledger_connection_ends_in_one_line_naming_the_department_and_the_ledger(
    world, held_load, caplog: pytest.LogCaptureFixture
) -> None:  # type: ignore[no-untyped-def]
    from licence_reminder import sync
    from licence_reminder.errors import TransientError
    from licence_reminder.sync import plan as planning

    ledger, source, *_, folder = world
    dept, catalogue = _department()
    planning.register_department(ledger, dept, catalogue)
    plan = planning.start_run(
        ledger, dept, run_id=f"{CODE}:lost", logical_date=TODAY, force_full=True
    )
    database = ledger.url.database

    def kill_the_loader() -> None:
        _wait_for("the run's load to wait on the lock", lambda: _waiting_load(database))
        with _admin(database) as admin, admin.cursor() as cur:
            cur.execute(f"KILL CONNECTION {_waiting_load(database)}")
        with held_load.cursor() as lock:
            lock.execute("UNLOCK TABLES")

    killer = threading.Thread(target=kill_the_loader)
    killer.start()
    with caplog.at_level(logging.DEBUG), pytest.raises(TransientError) as raised:
        sync.run(ledger, source, dept, catalogue, plan, today=TODAY)
    killer.join()

    message = str(raised.value)
    assert "\n" not in message
    assert message.startswith(
        f"department {CODE}: loading the ledger database: connection lost: ("
    ), message
    assert any(cause in message for cause in ("Lost connection", "gone away", "was killed")), (
        message
    )
    assert not list(folder.glob("run-*"))  # the run removed its own folder

    # what the task does next: record the failure, with the same line
    planning.fail_run(ledger, plan.run_id, message)
    assert (_run_row(ledger, plan.run_id) or ())[0::2] == ("failed", message)


@pytest.mark.mariadb
def test_a_failure_the_lost_ledger_cannot_record_is_one_warning(
    caplog: pytest.LogCaptureFixture,
) -> None:
    from licence_reminder.db import engine_from_url
    from licence_reminder.sync import plan as planning

    gone = engine_from_url("mysql+pymysql://root@127.0.0.1:9/ledger")  # nothing listens on port 9
    with caplog.at_level(logging.WARNING):
        planning.fail_run(
            gone, f"{CODE}:run1", "department scjgj: merge into the ledger: connection lost: …"
        )
    gone.dispose()
    (record,) = [r for r in caplog.records if r.levelno >= logging.WARNING]
    line = record.getMessage()
    assert line.startswith(
        f"department {CODE}: ledger database: the run's failure could not be recorded: "
    ), line
    assert "Can't connect" in line and "next run closes it" in line
    assert record.exc_info is None
