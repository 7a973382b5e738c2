"""Two departments syncing into one MariaDB ledger at the same time, each in its own process as
Airflow runs them, each run one long ledger transaction: neither may wait for the other's commit
until a lock wait times out, nor be chosen as a deadlock victim, and together they must leave
exactly the ledger the same runs leave one after the other.
"""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import sqlalchemy as sa
from conftest import ROOT

TODAY = dt.date(2026, 11, 24)

# A task process: wait until the other department's process is ready too, then run.
_CHILD = textwrap.dedent("""
    import datetime as dt, sys, time
    from pathlib import Path
    from licence_reminder import sync
    from licence_reminder.sync import plan as planning
    from licence_reminder.db import engine_from_url
    from licence_reminder.registry import catalogue_for, load_department

    root, ledger_url, source_url, code, run, full, barrier = sys.argv[1:]
    root, barrier = Path(root), Path(barrier)
    dept = load_department(root / "include" / "registry" / "departments" / f"{code}.yaml")
    settings = dept.source.sync.model_copy(update={"chunk_size": 200})
    dept = dept.model_copy(update={"source": dept.source.model_copy(update={"sync": settings})})
    catalogue = catalogue_for(code, root / "include" / "registry" / "catalogues")
    ledger, source = engine_from_url(ledger_url), engine_from_url(source_url)
    today = dt.date(2026, 11, 24)
    planning.register_department(ledger, dept, catalogue)
    plan = planning.start_run(ledger, dept, run_id=f"{code}:{run}", logical_date=today, force_full=full == "1")
    (barrier / code).touch()
    deadline = time.monotonic() + 60
    while len(list(barrier.iterdir())) < 2:
        if time.monotonic() > deadline:
            sys.exit("the other department's process never got ready")
        time.sleep(0.01)
    result = sync.run(ledger, source, dept, catalogue, plan, today=today)
    print("RESULT", code, result.stats.rows_read, result.published.inserted, result.published.vanished)
""")


def _run_together(
    ledger_url: str, sources: dict[str, str], run: str, tmp: Path, *, full: bool
) -> list[str]:
    barrier = tmp / f"barrier-{run}"
    barrier.mkdir()
    env = {**os.environ, "PYTHONPATH": str(ROOT / "include")}
    children = [
        subprocess.Popen(
            [
                sys.executable,
                "-c",
                _CHILD,
                str(ROOT),
                ledger_url,
                url,
                code,
                run,
                "1" if full else "0",
                str(barrier),
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        for code, url in sources.items()
    ]
    done = [child.communicate(timeout=300) for child in children]
    for child, (_, stderr) in zip(children, done, strict=True):
        assert child.returncode == 0, "\n".join(e[-3000:] for _, e in done)
    # the child's own lines: Airflow, once imported (a connection read), logs to stdout too
    return [
        line.removeprefix("RESULT ")
        for stdout, _ in done
        for line in stdout.splitlines()
        if line.startswith("RESULT ")
    ]


def _run_one_after_the_other(
    ledger_url: str, sources: dict[str, str], run: str, *, full: bool
) -> None:
    from licence_reminder import sync
    from licence_reminder.db import engine_from_url
    from licence_reminder.registry import catalogue_for, load_department
    from licence_reminder.sync import plan as planning

    ledger = engine_from_url(ledger_url)
    for code, url in sources.items():
        dept = load_department(ROOT / "include" / "registry" / "departments" / f"{code}.yaml")
        catalogue = catalogue_for(code, ROOT / "include" / "registry" / "catalogues")
        planning.register_department(ledger, dept, catalogue)
        plan = planning.start_run(
            ledger, dept, run_id=f"{code}:{run}", logical_date=TODAY, force_full=full
        )
        source = engine_from_url(url)
        sync.run(ledger, source, dept, catalogue, plan, today=TODAY)
        source.dispose()
    ledger.dispose()


def _state(ledger_url: str) -> dict[str, list[tuple]]:
    from licence_reminder.db import engine_from_url

    queries = {
        "ledger": "SELECT dept_code, licence_no, holder_name, contact_mobile, expiry_date, status, row_hash,"
        " cycle, vanished_at IS NULL, first_reminder_on FROM ledger ORDER BY dept_code, licence_no",
        "quarantine": "SELECT dept_code, record_key, rules, resolved_at IS NULL FROM quarantine"
        " ORDER BY dept_code, record_key",
        "history": "SELECT dept_code, licence_no, change_kind, new_values FROM ledger_history"
        " ORDER BY dept_code, licence_no, id",
        "runs": "SELECT dept_code, run_id, status, rows_read, inserted, updated, vanished FROM sync_run"
        " ORDER BY dept_code, run_id",
        "staging": "SELECT (SELECT COUNT(*) FROM staging_licence) + (SELECT COUNT(*) FROM staging_key)"
        " + (SELECT COUNT(*) FROM staging_rejection)",
    }
    engine = engine_from_url(ledger_url)
    with engine.connect() as conn:
        state = {k: [tuple(r) for r in conn.execute(sa.text(q))] for k, q in queries.items()}
    engine.dispose()
    return state


@pytest.mark.mariadb
def test_two_departments_syncing_at_once_into_one_ledger(mariadb_factory, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from licence_reminder import schema
    from licence_reminder.db import engine_from_url
    from licence_reminder.demo.sources import seed_source

    sources = {"scjgj": mariadb_factory(), "jtysj": mariadb_factory()}
    for code, url in sources.items():
        engine = engine_from_url(url)
        seed_source(engine, code, today=TODAY, n=3000, seed=7)
        engine.dispose()
    together, apart = mariadb_factory(), mariadb_factory()
    for url in (together, apart):
        engine = engine_from_url(url)
        schema.upgrade(engine)
        engine.dispose()

    first = _run_together(together, sources, "r1", tmp_path, full=True)
    assert [line.split()[0] for line in first] == ["scjgj", "jtysj"]
    assert all(int(line.split()[2]) > 2000 for line in first), first  # rows went in
    _run_one_after_the_other(apart, sources, "r1", full=True)

    # the second round updates rows of both departments and marks some vanished, at once
    with engine_from_url(sources["scjgj"]).begin() as conn:
        conn.execute(
            sa.text("UPDATE scjg_xkz SET lxdh = '13912345678', gxsj = :t WHERE id % 50 = 0"),
            {"t": dt.datetime(2026, 11, 24, 9)},
        )
        conn.execute(sa.text("DELETE FROM scjg_xkz WHERE id % 97 = 0"))
    with engine_from_url(sources["jtysj"]).begin() as conn:
        conn.execute(
            sa.text("UPDATE jt_zs SET lxdh = '13912345679', gxsj = :t WHERE id % 40 = 0"),
            {"t": dt.datetime(2026, 11, 24, 9)},
        )
        conn.execute(sa.text("DELETE FROM jt_zs WHERE id % 89 = 0"))
    second = _run_together(together, sources, "r2", tmp_path, full=True)
    assert all(int(line.split()[3]) > 20 for line in second), second  # licences vanished in both
    _run_one_after_the_other(apart, sources, "r2", full=True)

    got, want = _state(together), _state(apart)
    assert got["staging"] == [(0,)]
    assert [r[2] for r in got["runs"]] == ["success"] * 4
    assert got == want
