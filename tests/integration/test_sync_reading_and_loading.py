"""How a sync reads its source and loads the ledger, against real MariaDB and PostgreSQL (and
SQLite for staging).

LOAD DATA staging must give back exactly what executemany would; connectorx and the driver's own
cursor must leave exactly the same ledger and quarantine; a load the server refuses part-way
leaves the ledger as it was.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
import sqlalchemy as sa
from conftest import ROOT
from licence_reminder import sync
from licence_reminder.registry import Department, catalogue_for, load_department
from licence_reminder.sync import plan as planning
from licence_reminder.sync import readers
from licence_reminder.sync import rows as staging

TODAY = dt.date(2026, 11, 24)

AWKWARD = [
    {
        "licence_no": "T\tAB",
        "holder_name": "line one\nline two\r\n",
        "contact_name": "back\\slash \\N \\t",
    },
    {"licence_no": "𠀀𪚥", "holder_name": "", "contact_name": None},
    {"licence_no": "\\N", "holder_name": "\\", "contact_name": "'quote\" %s :x"},
]


def _staging_frame() -> Any:
    import pandas as pd
    from licence_reminder.records import CANONICAL_COLUMNS

    rows = []
    for k, awkward in enumerate(AWKWARD):
        row: dict[str, Any] = dict.fromkeys(CANONICAL_COLUMNS)
        row.update(
            licence_name="食品经营许可证",
            holder_type="org",
            contact_mobile="13800000000",
            expiry_date=dt.date(2027, 1, k + 1),
            status="valid",
            issue_date=dt.date(1999, 12, 31) if k else None,
            source_updated_at=dt.datetime(2026, 11, 1, 8, 30, 15 + k),
        )
        row.update(awkward)
        rows.append(
            {
                **row,
                "first_reminder_on": None,
                "second_reminder_on": dt.date(2026, 12, 25),
                "row_hash": f"{k:032d}",
                "contact_id_digest": None,
                "holder_code_digest": None,
                "source_hash": f"{k:032x}",
            }
        )
    return pd.DataFrame(rows, dtype=object)


@pytest.mark.mariadb
@pytest.mark.parametrize("ledger", ["ledger_mariadb", "ledger_sqlite"])
def test_staging_round_trips_awkward_values_exactly(
    ledger: str, request: pytest.FixtureRequest
) -> None:
    engine = request.getfixturevalue(ledger)
    frame = _staging_frame()
    with engine.begin() as conn:
        staging.write(conn, "staging_licence", frame, {"run_id": "r:1", "dept_code": "d"})
    with engine.connect() as conn:
        got = conn.execute(
            sa.text(
                f"SELECT {', '.join(frame.columns)} FROM staging_licence WHERE run_id = 'r:1' "
                "ORDER BY row_hash"
            )
        ).all()
    for back, sent in zip(got, frame.to_dict("records"), strict=True):
        for column, value in sent.items():
            b = getattr(back, column)
            if isinstance(value, dt.date) and isinstance(b, str):  # SQLite keeps dates as text
                b = type(value).fromisoformat(b)
            assert b == value, column


@pytest.mark.mariadb
def test_load_data_warning_fails_without_the_value(ledger_mariadb) -> None:  # type: ignore[no-untyped-def]
    from licence_reminder.errors import PermanentError

    frame = _staging_frame().head(1)
    frame["contact_mobile"] = "1380000000012345678901234"  # longer than the column
    with (
        pytest.raises(PermanentError, match="contact_mobile") as err,
        ledger_mariadb.begin() as conn,
    ):
        staging.write(conn, "staging_licence", frame, {"run_id": "r:2", "dept_code": "d"})
    assert "1380000000012345678901234" not in str(err.value)


def _department() -> Department:
    dept = load_department(ROOT / "include" / "registry" / "departments" / "scjgj.yaml")
    assert dept.source.sync.split_column == "source_id"
    settings = dept.source.sync.model_copy(update={"chunk_size": 100})
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


def _run(
    ledger: sa.Engine, source: sa.Engine, dept: Department, run: str, *, full: bool = True
) -> sync.StageStats:
    catalogue = catalogue_for("scjgj", ROOT / "include" / "registry" / "catalogues")
    planning.register_department(ledger, dept, catalogue)
    plan = planning.start_run(
        ledger, dept, run_id=f"scjgj:{run}", logical_date=TODAY, force_full=full
    )
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
        "warnings": "SELECT licence_no, rule, message, resolved_at IS NULL FROM licence_warning"
        " ORDER BY licence_no, rule",
        "watermark": "SELECT watermark FROM sync_watermark",
    }
    with ledger.connect() as conn:
        return {k: [tuple(r) for r in conn.execute(sa.text(q))] for k, q in queries.items()}


def _rounds(
    source: sa.Engine, ledgers: tuple[sa.Engine, sa.Engine], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The same runs into two ledgers: through connectorx, and through the driver's own cursor
    (what connectorx cannot read, e.g. TLS keys) — then a second round of changed, fixed, broken
    and deleted rows and a duplicate, a full and an incremental run each."""
    fast, plain = ledgers
    dept = _department()
    for run, full in (("r1", True), ("r2", True), ("r3", False)):
        _run(fast, source, dept, run, full=full)
        with monkeypatch.context() as m:
            m.setattr(readers, "connectorx_url", lambda engine: None)
            _run(plain, source, dept, run, full=full)
        with source.begin() as conn:
            conn.execute(
                sa.text(
                    "UPDATE scjg_xkz SET lxdh = '13912345678', gxsj = :t WHERE id IN (5, 300, 450)"
                ),
                {"t": dt.datetime(2026, 11, 24, 9) + dt.timedelta(hours=int(run[1:]))},
            )
            conn.execute(
                sa.text(
                    "UPDATE scjg_xkz SET xkzbh = (SELECT n FROM (SELECT xkzbh AS n FROM scjg_xkz"
                    " WHERE id = 450) t) WHERE id = 20"
                )
            )
            conn.execute(sa.text("DELETE FROM scjg_xkz WHERE id IN (7, 420)"))


@pytest.mark.mariadb
def test_connectorx_and_the_driver_leave_the_same_ledger(
    world, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    source, (fast, plain) = world
    _rounds(source, (fast, plain), monkeypatch)
    assert _state(fast) == _state(plain)
    state = _state(fast)
    assert any("duplicate_superseded" in q[3] for q in state["quarantine"])
    assert any(not vanished for *_, vanished in state["ledger"])
    assert len(state["ledger"]) > 600 and state["warnings"]


@pytest.mark.mariadb
def test_how_chunks_are_batched_for_validation_changes_nothing_in_the_ledger(
    world, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    """The first rows go alone and the rest of their chunk joins the next batch
    (validate.FIRST_BATCH_ROWS): split inside a chunk here, the ledger is as with whole chunks."""
    from licence_reminder.sync import validate

    source, (whole, split) = world
    dept = _department()
    one_chunk = dept.model_copy(
        update={
            "source": dept.source.model_copy(
                update={"sync": dept.source.sync.model_copy(update={"chunk_size": 1000})}
            )
        }
    )
    for run, full in (("r1", True), ("r2", True), ("r3", False)):
        _run(whole, source, dept, run, full=full)
        with monkeypatch.context() as m:
            m.setattr(validate, "FIRST_BATCH_ROWS", 3)
            m.setattr(validate, "GX_BATCH_ROWS", 250)
            _run(split, source, one_chunk, run, full=full)
        with source.begin() as conn:
            conn.execute(
                sa.text("UPDATE scjg_xkz SET lxdh = '13912345678', gxsj = :t WHERE id IN (5, 60)"),
                {"t": dt.datetime(2026, 11, 24, 9) + dt.timedelta(hours=int(run[1:]))},
            )
            conn.execute(
                sa.text(
                    "UPDATE scjg_xkz SET xkzbh = (SELECT n FROM (SELECT xkzbh AS n FROM scjg_xkz"
                    " WHERE id = 450) t) WHERE id = 20"
                )
            )
    state = _state(split)
    assert _state(whole) == state
    assert any("duplicate_superseded" in q[3] for q in state["quarantine"])
    assert len({q[2] for q in state["quarantine"]}) > 5  # rows told apart by their position


@pytest.mark.postgres
@pytest.mark.mariadb
def test_connectorx_and_the_driver_read_postgresql_alike(
    postgres_database: str, mariadb_factory, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    from licence_reminder import schema
    from licence_reminder.db import engine_from_url
    from licence_reminder.demo.sources import seed_source

    source = engine_from_url(postgres_database)
    seed_source(source, "scjgj", today=TODAY, n=500, seed=5)
    ledgers = (engine_from_url(mariadb_factory()), engine_from_url(mariadb_factory()))
    for ledger in ledgers:
        schema.upgrade(ledger)
    _rounds(source, ledgers, monkeypatch)
    assert _state(ledgers[0]) == _state(ledgers[1])
    for engine in (source, *ledgers):
        engine.dispose()


@pytest.mark.mariadb
def test_a_load_refused_part_way_leaves_the_ledger_and_staging_as_they_were(
    world, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    """New licences go into the ledger batch by batch, on the run's loader thread, inside its one
    transaction: the server refusing a later batch rolls back the ones before it."""
    from licence_reminder.errors import PermanentError

    source, (ledger, _) = world
    dept = _department()
    real_load, loaded = staging.load, []

    def load(conn, staged, constants):  # type: ignore[no-untyped-def]
        if staged.table == "ledger" and loaded.count("ledger") == 2:
            raise PermanentError(
                "loading ledger in the ledger database rejected values: Data too long"
            )
        real_load(conn, staged, constants)
        loaded.append(staged.table)

    monkeypatch.setattr(staging, "load", load)
    with pytest.raises(PermanentError, match="Data too long"):
        _run(ledger, source, dept, "refused")
    assert loaded.count("ledger") == 2  # some batches were in
    with ledger.connect() as conn:
        for table in (
            "ledger",
            "ledger_history",
            "quarantine",
            "staging_licence",
            "staging_rejection",
            "staging_key",
            "staging_warning",
            "sync_watermark",
        ):
            assert conn.execute(sa.text(f"SELECT COUNT(*) FROM {table}")).scalar() == 0, table
    monkeypatch.setattr(staging, "load", real_load)
    assert _run(ledger, source, dept, "again").rows_read == 700
    assert _state(ledger)["ledger"]


@pytest.mark.mariadb
def test_server_without_local_infile_stages_by_insert(
    world, caplog: pytest.LogCaptureFixture
) -> None:  # type: ignore[no-untyped-def]
    """MySQL 8 ships with local_infile off: the sync must leave the same ledger, only slower, and
    say why it is slower."""
    source, (bulk, plain) = world
    dept = _department()

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
            with (
                plain.connect() as conn,
                caplog.at_level("WARNING", logger="licence_reminder.sync.rows"),
            ):
                assert staging.bulk_loads(conn) is False
                with pytest.raises(
                    sa.exc.DBAPIError
                ):  # what the server now does with LOAD DATA LOCAL
                    conn.execute(
                        sa.text("LOAD DATA LOCAL INFILE '/dev/null' INTO TABLE staging_key")
                    )
            _run(plain, source, dept, run)
            with source.begin() as conn:  # the second round: changed and deleted rows
                conn.execute(
                    sa.text(
                        "UPDATE scjg_xkz SET lxdh = '13912345678', gxsj = :t WHERE id IN (5, 650)"
                    ),
                    {"t": dt.datetime(2026, 11, 24, 9)},
                )
                conn.execute(sa.text("DELETE FROM scjg_xkz WHERE id IN (7, 420)"))
    finally:
        local_infile(was)
    assert "local_infile off" in caplog.text
    assert _state(plain) == _state(bulk)
    assert any(not vanished for *_, vanished in _state(plain)["ledger"])
