"""Closing runs that stopped beating, and the run's private folder (SQLite ledger; the MariaDB
kill and lost-connection cases are tests/integration/test_sync_crash.py)."""

from __future__ import annotations

import datetime as dt
import stat
from pathlib import Path

import pytest
import sqlalchemy as sa
from licence_reminder.sync import workdir
from licence_reminder.sync.liveness import STALE_AFTER, close_stale
from licence_reminder.sync.workdir import RunFolder

NOW = dt.datetime(2026, 11, 24, 2, 30)


def _run(
    conn: sa.Connection,
    run_id: str,
    dept: str,
    *,
    started: dt.datetime,
    beat: dt.datetime | None,
    status: str = "running",
) -> None:
    conn.execute(
        sa.text(
            "INSERT INTO sync_run (run_id, dept_code, mode, status, started_at, heartbeat_at, run_no) "
            "VALUES (:r, :d, 'full', :s, :t, :b, (SELECT COALESCE(MAX(run_no), 0) + 1 FROM sync_run))"
        ),
        {"r": run_id, "d": dept, "s": status, "t": started, "b": beat},
    )


def test_only_the_departments_runs_that_stopped_beating_are_closed(
    ledger_sqlite: sa.Engine,
) -> None:
    old = NOW - STALE_AFTER - dt.timedelta(seconds=1)
    with ledger_sqlite.begin() as conn:
        conn.execute(
            sa.text(
                "INSERT INTO department (code, name, region_code, updated_at) "
                "VALUES ('d1', 'd1', '410500', :t), ('d2', 'd2', '410500', :t)"
            ),
            {"t": NOW},
        )
        _run(conn, "d1:killed", "d1", started=old - dt.timedelta(hours=1), beat=old)
        _run(conn, "d1:never-beat", "d1", started=old, beat=None)
        _run(
            conn,
            "d1:alive",
            "d1",
            started=old - dt.timedelta(hours=1),
            beat=NOW - dt.timedelta(seconds=40),
        )
        _run(conn, "d1:done", "d1", started=old, beat=old, status="success")
        _run(conn, "d1:now", "d1", started=old, beat=None)  # the run that closes (a retried task's)
        _run(conn, "d2:killed", "d2", started=old, beat=old)
        assert sorted(close_stale(conn, "d1", run_id="d1:now", now=NOW)) == [
            "d1:killed",
            "d1:never-beat",
        ]
        rows = dict(
            conn.execute(
                sa.text("SELECT run_id, status || ' ' || COALESCE(error, '') FROM sync_run")
            ).all()
        )
    assert rows["d1:killed"] == (
        f"failed no heartbeat since {old}: the run's process was killed or lost the "
        "ledger database before it could record how it ended; closed by run d1:now"
    )
    assert rows["d1:never-beat"].startswith(f"failed no heartbeat since {old}")
    assert {k: v for k, v in rows.items() if k not in {"d1:killed", "d1:never-beat"}} == {
        "d1:alive": "running ",
        "d1:done": "success ",
        "d1:now": "running ",
        "d2:killed": "running ",
    }


@pytest.fixture
def work(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("LR_WORK_DIR", str(tmp_path / "work"))
    return tmp_path / "work" / "sync" / "d1"


def test_the_run_folder_is_private_and_removed(work: Path) -> None:
    folder = RunFolder("d1")
    path = folder.open()
    (path / "ledger_x.tsv").write_text("row\n")
    for level in (work.parent.parent, work.parent, work, path):
        assert stat.S_IMODE(level.stat().st_mode) == 0o700, level
    folder.close()
    assert not path.exists()


def test_a_work_folder_inside_folders_not_made_yet(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # a fresh clone has no var/ for the default var/work
    monkeypatch.setenv("LR_WORK_DIR", str(tmp_path / "var" / "work"))
    folder = RunFolder("d1")
    path = folder.open()
    assert path.parent == tmp_path / "var" / "work" / "sync" / "d1"
    assert stat.S_IMODE((tmp_path / "var" / "work").stat().st_mode) == 0o700
    folder.close()


def test_the_next_run_removes_a_dead_runs_files_but_not_a_live_ones(work: Path) -> None:
    work.mkdir(parents=True, mode=0o755)
    work.chmod(0o755)
    dead = work / "run-dead"
    dead.mkdir()
    (dead / "staging_licence_x.tsv").write_text("row\n")
    live = RunFolder("d1")
    live_path = live.open()  # removes the dead run's folder: no run held the lock
    assert not dead.exists()
    assert stat.S_IMODE(work.stat().st_mode) == 0o700  # made private whatever it was
    (live_path / "ledger_y.tsv").write_text("row\n")
    beside = RunFolder("d1")
    beside_path = beside.open()  # the live run holds the lock: its files stay
    assert (live_path / "ledger_y.tsv").exists()
    beside.close()
    live.close()
    assert sorted(p.name for p in work.iterdir()) == [".lock"]
    assert beside_path != live_path


def test_a_work_folder_the_ledger_cannot_take_as_sql_text(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from licence_reminder.errors import PermanentError

    monkeypatch.setenv("LR_WORK_DIR", str(tmp_path / "my work's"))
    with pytest.raises(
        PermanentError, match="LR_WORK_DIR: the load files' folder .* may hold only"
    ):
        RunFolder("d1").open()


def test_the_default_work_folder_is_the_products_own(monkeypatch: pytest.MonkeyPatch) -> None:
    from licence_reminder.config import PROJECT_ROOT

    monkeypatch.delenv("LR_WORK_DIR", raising=False)
    assert workdir.department_folder("d1") == PROJECT_ROOT / "var" / "work" / "sync" / "d1"
