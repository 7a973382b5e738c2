"""Bulk staging and the split-column parallel sync, against real MariaDB (and SQLite for staging).

LOAD DATA staging must give back exactly what executemany would; a sync split over worker processes
must leave exactly the ledger and quarantine one process leaves; a failing worker fails the run
and leaves the ledger as it was.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
import sqlalchemy as sa

from conftest import ROOT
from licence_reminder import sync
from licence_reminder.registry import Department, catalogue_for, load_department

TODAY = dt.date(2026, 11, 24)

AWKWARD = [
    {"licence_no": "T\tAB", "holder_name": "line one\nline two\r\n", "contact_name": "back\\slash \\N \\t"},
    {"licence_no": "𠀀𪚥", "holder_name": "", "contact_name": None},
    {"licence_no": "\\N", "holder_name": "\\", "contact_name": "'quote\" %s :x"},
]


def _staging_frame() -> Any:
    import pandas as pd

    from licence_reminder.records import CANONICAL_COLUMNS

    rows = []
    for k, awkward in enumerate(AWKWARD):
        row: dict[str, Any] = dict.fromkeys(CANONICAL_COLUMNS)
        row.update(licence_name="食品经营许可证", holder_type="org", contact_mobile="13800000000",
                   expiry_date=dt.date(2027, 1, k + 1), status="valid",
                   issue_date=dt.date(1999, 12, 31) if k else None,
                   source_updated_at=dt.datetime(2026, 11, 1, 8, 30, 15 + k))
        row.update(awkward)
        rows.append({**row, "first_reminder_on": None, "second_reminder_on": dt.date(2026, 12, 25),
                     "row_hash": f"{k:032d}"})
    return pd.DataFrame(rows, dtype=object)


@pytest.mark.mariadb
@pytest.mark.parametrize("ledger", ["ledger_mariadb", "ledger_sqlite"])
def test_staging_round_trips_awkward_values_exactly(ledger: str, request: pytest.FixtureRequest) -> None:
    from licence_reminder import staging

    engine = request.getfixturevalue(ledger)
    frame = _staging_frame()
    with engine.begin() as conn:
        staging.write(conn, "staging_licence", frame, {"run_id": "r:1", "dept_code": "d"})
    with engine.connect() as conn:
        got = conn.execute(sa.text(
            f"SELECT {', '.join(frame.columns)} FROM staging_licence WHERE run_id = 'r:1' "
            "ORDER BY row_hash")).all()
    for back, sent in zip(got, frame.to_dict("records"), strict=True):
        for column, value in sent.items():
            b = getattr(back, column)
            if isinstance(value, dt.date) and isinstance(b, str):  # SQLite keeps dates as text
                b = type(value).fromisoformat(b)
            assert b == value, column


@pytest.mark.mariadb
def test_load_data_warning_fails_without_the_value(ledger_mariadb) -> None:  # type: ignore[no-untyped-def]
    from licence_reminder import staging
    from licence_reminder.errors import PermanentError

    frame = _staging_frame().head(1)
    frame["contact_mobile"] = "1380000000012345678901234"  # longer than the column
    with pytest.raises(PermanentError, match="contact_mobile") as err, ledger_mariadb.begin() as conn:
        staging.write(conn, "staging_licence", frame, {"run_id": "r:2", "dept_code": "d"})
    assert "1380000000012345678901234" not in str(err.value)


def _department(workers: int) -> Department:
    dept = load_department(ROOT / "include" / "registry" / "departments" / "scjgj.yaml")
    assert dept.source.sync.split_column == "source_id"
    settings = dept.source.sync.model_copy(update={"workers": workers, "chunk_size": 100})
    return dept.model_copy(update={"source": dept.source.model_copy(update={"sync": settings})})


@pytest.fixture
def world(mariadb_factory):  # type: ignore[no-untyped-def]
    """A seeded scjgj source and two empty ledgers."""
    from licence_reminder import schema
    from licence_reminder.db import engine_from_url
    from licence_reminder.demo.sources import seed_source

    source = engine_from_url(mariadb_factory())
    seed_source(source, "scjgj", today=TODAY, n=700, seed=11)
    ledgers = [engine_from_url(mariadb_factory()) for _ in range(2)]
    for ledger in ledgers:
        schema.upgrade(ledger)
    yield source, ledgers
    for engine in (source, *ledgers):
        engine.dispose()


def _run(ledger: sa.Engine, source: sa.Engine, dept: Department, run: str, *, full: bool = True) -> sync.StageStats:
    catalogue = catalogue_for("scjgj", ROOT / "include" / "registry" / "catalogues")
    sync.register_department(ledger, dept, catalogue)
    plan = sync.start_run(ledger, dept, run_id=f"scjgj:{run}", logical_date=TODAY, force_full=full)
    return sync.run(ledger, source, dept, catalogue, plan, today=TODAY).stats


def _state(ledger: sa.Engine) -> dict[str, list[tuple]]:
    queries = {
        "ledger": "SELECT licence_no, licence_name, holder_name, holder_type, holder_code, contact_name,"
                  " contact_id_no, contact_mobile, issue_date, expiry_date, status, renewal_applied_on,"
                  " source_updated_at, first_reminder_on, second_reminder_on, row_hash, cycle,"
                  " vanished_at IS NULL FROM ledger ORDER BY licence_no",
        "quarantine": "SELECT record_key, licence_no, source_row, rules, reasons, raw_values,"
                      " resolved_at IS NULL FROM quarantine ORDER BY source_row, record_key",
        "history": "SELECT licence_no, change_kind, old_values, new_values FROM ledger_history"
                   " ORDER BY licence_no, id",
        "watermark": "SELECT watermark FROM sync_watermark",
    }
    with ledger.connect() as conn:
        return {k: [tuple(r) for r in conn.execute(sa.text(q))] for k, q in queries.items()}


@pytest.mark.mariadb
def test_split_sync_equals_single_process(world) -> None:  # type: ignore[no-untyped-def]
    source, (single, split) = world
    one, three = _department(1), _department(3)
    for run in ("r1", "r2"):
        stats = [_run(single, source, one, run), _run(split, source, three, run)]
        assert stats[0].source_read_at and stats[1].source_read_at
        for s in stats:  # the source's clock differs from one run to the next
            s.source_read_at = None
        assert stats[0] == stats[1]
        assert _state(single) == _state(split)
        # the second round: changed, fixed, broken and deleted rows; a duplicate across ranges
        with source.begin() as conn:
            conn.execute(sa.text("UPDATE scjg_xkz SET lxdh = '13912345678', gxsj = :t WHERE id IN (5, 300, 650)"),
                         {"t": dt.datetime(2026, 11, 24, 9)})
            conn.execute(sa.text("UPDATE scjg_xkz SET xkzbh = (SELECT n FROM (SELECT xkzbh AS n FROM scjg_xkz"
                                 " WHERE id = 650) t) WHERE id = 20"))
            conn.execute(sa.text("DELETE FROM scjg_xkz WHERE id IN (7, 420)"))
    quarantine = _state(split)["quarantine"]
    assert any("duplicate_superseded" in q[3] for q in quarantine)  # row 20: 650 was changed later
    assert any(not vanished for *_, vanished in _state(split)["ledger"])
    # an incremental round: the older row of the duplicate changes, so it is the one changed last
    # now; another row changes
    with source.begin() as conn:
        number = conn.execute(sa.text("SELECT xkzbh FROM scjg_xkz WHERE id = 650")).scalar_one()
        conn.execute(sa.text("UPDATE scjg_xkz SET qymc = '后改公司', gxsj = :t WHERE id = 20"),
                     {"t": dt.datetime(2026, 11, 24, 10)})
        conn.execute(sa.text("UPDATE scjg_xkz SET lxdh = '13900000001', gxsj = :t WHERE id = 6"),
                     {"t": dt.datetime(2026, 11, 24, 10)})
    for ledger, dept in ((single, one), (split, three)):
        stats = _run(ledger, source, dept, "r3", full=False)
        assert (stats.rows_read, stats.rows_rejected) == (2, 0)
    assert _state(single) == _state(split)
    assert [r[2] for r in _state(split)["ledger"] if r[0] == number] == ["后改公司"]
    with split.connect() as conn:
        assert conn.execute(sa.text("SELECT rule FROM licence_warning WHERE licence_no = :n AND resolved_at IS NULL"),
                            {"n": number}).scalars().all() == ["duplicate_in_source"]


@pytest.mark.mariadb
def test_failing_worker_fails_the_run_and_leaves_the_ledger(world, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    from licence_reminder import staging
    from licence_reminder.errors import PermanentError

    source, (ledger, _) = world
    dept = _department(2)
    _run(ledger, source, dept, "ok")
    before = _state(ledger)
    marker = "SCJGJ-STAGING-REFUSES-THIS"
    with source.begin() as conn:  # the second worker's range; the first one's row changes too
        conn.execute(sa.text("UPDATE scjg_xkz SET xkzbh = :no, gxsj = :t WHERE id = 600"),
                     {"no": marker, "t": dt.datetime(2026, 11, 24, 9)})
        conn.execute(sa.text("UPDATE scjg_xkz SET lxdh = '13912345678' WHERE id = 3"))
    real_prepare = staging.prepare

    def prepare(table, frame, **kw):  # type: ignore[no-untyped-def]
        # the workers are forked from this process: they make their chunks ready through this too
        if table in ("ledger", "staging_licence") and marker in set(frame["licence_no"]):
            raise PermanentError("staging in the ledger database rejected values: Data too long for "
                                 "column 'licence_no'")
        return real_prepare(table, frame, **kw)

    monkeypatch.setattr(staging, "prepare", prepare)
    with pytest.raises(PermanentError, match="sync worker 2 of 2.*licence_no") as err:
        _run(ledger, source, dept, "bad")
    assert marker not in str(err.value)
    assert _state(ledger) == before


@pytest.mark.mariadb
def test_a_failing_worker_stops_the_other_one_even_when_it_waits_for_its_turn(world, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    """One chunk ahead of the loading: the worker that did not fail is waiting for a turn that
    never comes. A task process whose SIGTERM handler ignores the signal (Airflow installs its
    own) must still not hang: workers take SIGTERM's default, and are killed if they outlive it."""
    import signal
    import time

    from licence_reminder import staging
    from licence_reminder.errors import PermanentError

    source, (ledger, _) = world
    dept = _department(2)
    monkeypatch.setattr(sync, "_CHUNKS_AHEAD", 1)
    real_prepare = staging.prepare

    def prepare(table, frame, **kw):  # type: ignore[no-untyped-def]
        if table == "ledger" and frame["licence_no"].str.endswith("0500").any():  # in the 2nd range
            raise PermanentError("refused")
        return real_prepare(table, frame, **kw)

    monkeypatch.setattr(staging, "prepare", prepare)
    previous = signal.signal(signal.SIGTERM, lambda *_: None)
    try:
        started = time.monotonic()
        with pytest.raises(PermanentError, match="refused"):
            _run(ledger, source, dept, "stuck")
        assert time.monotonic() - started < 30
    finally:
        signal.signal(signal.SIGTERM, previous)


def test_a_worker_that_ignores_sigterm_is_killed() -> None:
    import multiprocessing
    import signal
    import time

    from licence_reminder.parallel import _stop

    def stubborn() -> None:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        time.sleep(60)

    proc = multiprocessing.get_context("fork").Process(target=stubborn)
    proc.start()
    time.sleep(0.3)
    started = time.monotonic()
    _stop([proc])
    assert not proc.is_alive() and time.monotonic() - started < 10


@pytest.mark.mariadb
def test_a_load_refused_part_way_leaves_the_ledger_and_staging_as_they_were(world, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    """New licences go into the ledger chunk by chunk, on the run's loader thread, inside its one
    transaction: the server refusing a later chunk rolls back the ones before it."""
    from licence_reminder import staging
    from licence_reminder.errors import PermanentError

    source, (ledger, _) = world
    dept = _department(2)
    real_load, loaded = staging.load, []

    def load(conn, staged, constants):  # type: ignore[no-untyped-def]
        if staged.table == "ledger" and loaded.count("ledger") == 2:
            raise PermanentError("loading ledger in the ledger database rejected values: Data too long")
        real_load(conn, staged, constants)
        loaded.append(staged.table)

    monkeypatch.setattr(staging, "load", load)
    with pytest.raises(PermanentError, match="Data too long"):
        _run(ledger, source, dept, "refused")
    assert loaded.count("ledger") == 2  # some chunks were in
    with ledger.connect() as conn:
        for table in ("ledger", "ledger_history", "quarantine", "staging_licence", "staging_rejection",
                      "staging_key", "sync_watermark"):
            assert conn.execute(sa.text(f"SELECT COUNT(*) FROM {table}")).scalar() == 0, table
    monkeypatch.setattr(staging, "load", real_load)
    assert _run(ledger, source, dept, "again").rows_read == 700
    assert _state(ledger)["ledger"]


@pytest.mark.mariadb
def test_server_without_local_infile_stages_by_insert(world, caplog: pytest.LogCaptureFixture) -> None:  # type: ignore[no-untyped-def]
    """MySQL 8 ships with local_infile off: the sync must leave the same ledger, only slower, and
    say why it is slower."""
    from licence_reminder import staging

    source, (bulk, plain) = world
    dept = _department(2)

    def local_infile(on: bool) -> None:
        with bulk.connect() as conn:
            conn.execute(sa.text(f"SET GLOBAL local_infile = {int(on)}"))
        staging._LOCAL_INFILE.clear()

    with bulk.connect() as conn:
        was = bool(conn.execute(sa.text("SELECT @@GLOBAL.local_infile")).scalar())
    try:
        for run in ("r1", "r2"):
            local_infile(True)
            _run(bulk, source, dept, run)
            local_infile(False)
            with plain.connect() as conn, caplog.at_level("WARNING", logger="licence_reminder.staging"):
                assert staging.bulk_loads(conn) is False
                with pytest.raises(sa.exc.DBAPIError):  # what the server now does with LOAD DATA LOCAL
                    conn.execute(sa.text("LOAD DATA LOCAL INFILE '/dev/null' INTO TABLE staging_key"))
            _run(plain, source, dept, run)
            with source.begin() as conn:  # the second round: changed and deleted rows
                conn.execute(sa.text("UPDATE scjg_xkz SET lxdh = '13912345678', gxsj = :t "
                                     "WHERE id IN (5, 650)"), {"t": dt.datetime(2026, 11, 24, 9)})
                conn.execute(sa.text("DELETE FROM scjg_xkz WHERE id IN (7, 420)"))
    finally:
        local_infile(was)
    assert "local_infile off" in caplog.text
    assert _state(plain) == _state(bulk)
    assert any(not vanished for *_, vanished in _state(plain)["ledger"])


@pytest.mark.mariadb
def test_daemonic_task_process_syncs_in_one_process(world, monkeypatch: pytest.MonkeyPatch,
                                                    caplog: pytest.LogCaptureFixture) -> None:  # type: ignore[no-untyped-def]
    """An executor may run tasks in daemonic processes, which may not fork workers: the sync then
    runs in the task's own process and leaves the same ledger."""
    import multiprocessing

    source, (split, daemonic) = world
    dept = _department(2)
    _run(split, source, dept, "r1")
    monkeypatch.setitem(multiprocessing.current_process()._config, "daemon", True)
    with caplog.at_level("WARNING", logger="licence_reminder.sync"):
        _run(daemonic, source, dept, "r1")
    assert "daemonic" in caplog.text
    assert _state(daemonic) == _state(split)


@pytest.mark.mariadb
def test_split_sync_with_gapped_and_null_keys_loses_no_row(world) -> None:  # type: ignore[no-untyped-def]
    """A split key with a huge gap and NULLs (equal-width ranges used to leave the NULL rows out,
    and a full run then marked their licences vanished): the split sync reads every row and
    leaves the ledger one process leaves."""
    source, (single, split) = world
    sql = (ROOT / "include" / "sql" / "sources" / "scjgj_extract.sql").read_text(encoding="utf-8")
    assert "x.id AS source_id" in sql
    sql = sql.replace("x.id AS source_id", "CASE WHEN x.id % 10 = 0 THEN NULL WHEN x.id > 500 "
                                           "THEN x.id + 1000000000000 ELSE x.id END AS source_id")

    def department(workers: int) -> Department:
        dept = _department(workers)
        return dept.model_copy(update={"source": dept.source.model_copy(
            update={"extract_sql": sql, "extract_sql_file": None})})

    stats = [_run(single, source, department(1), "r1"), _run(split, source, department(3), "r1")]
    assert stats[0].rows_read == stats[1].rows_read == 700
    assert stats[0].rows_valid == stats[1].rows_valid
    states = [_state(single), _state(split)]
    assert states[0]["ledger"] == states[1]["ledger"]
    assert all(vanished for *_, vanished in states[1]["ledger"])


@pytest.mark.postgres
@pytest.mark.mariadb
def test_split_sync_from_postgresql_equals_single_process(postgres_database: str, mariadb_factory) -> None:  # type: ignore[no-untyped-def]
    """Forked workers over psycopg2's named cursors: the same ledger as one process."""
    from licence_reminder import schema
    from licence_reminder.db import engine_from_url
    from licence_reminder.demo.sources import seed_source

    source = engine_from_url(postgres_database)
    seed_source(source, "scjgj", today=TODAY, n=500, seed=5)
    ledgers = [engine_from_url(mariadb_factory()) for _ in range(2)]
    for ledger in ledgers:
        schema.upgrade(ledger)
    stats = [_run(ledgers[0], source, _department(1), "r1"), _run(ledgers[1], source, _department(3), "r1")]
    assert stats[0].rows_read == stats[1].rows_read == 500
    assert _state(ledgers[0])["ledger"] == _state(ledgers[1])["ledger"]
    assert _state(ledgers[0])["quarantine"] == _state(ledgers[1])["quarantine"]
    for engine in (source, *ledgers):
        engine.dispose()
