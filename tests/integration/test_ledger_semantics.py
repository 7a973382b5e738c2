"""Ledger semantics against real MariaDB (and SQLite, the embedded default).

Renewal starts a new cycle and cancels the old cycle's pending reminders; a renewal application
suppresses the second reminder; a revoked licence is never reminded; a failed merge leaves the
ledger unchanged; a fixed row leaves quarantine; incremental sync by watermark; full
reconciliation marks vanished licences.
"""

from __future__ import annotations

import datetime as dt
import json

import pytest
import sqlalchemy as sa
from licence_reminder import sync
from licence_reminder.registry import Department
from licence_reminder.sync import plan as planning
from licence_reminder.sync.flow import PublishStats, SyncPlan
from support.ledger_world import (
    CATALOGUE,
    DEPT,
    NOT_IN_CATALOGUE,
    TODAY,
    InjectedFailure,
    add_row,
    create_source_table,
    fail_before,
    licence,
    plan_day,
    put,
    q,
    reminders,
    run_numbers,
    run_sync,
)


@pytest.mark.mariadb
def test_renewal_starts_new_cycle_and_cancels_old_pending(engines) -> None:  # type: ignore[no-untyped-def]
    ledger, source = engines
    put(source, licence("A0001", 30))
    run_sync(ledger, source)
    plan_day(ledger, TODAY)
    assert reminders(ledger) == {("A0001", 1): "planned"}
    put(source, licence("A0001", 30 + 5 * 365, source_updated_at=dt.datetime(2026, 11, 2)))
    out = run_sync(ledger, source)
    assert out.renewed == 1 and out.reminders_cancelled == 1
    (row,) = q(ledger, "SELECT cycle, expiry_date FROM ledger WHERE licence_no = 'A0001'")
    assert row.cycle == 2
    (rem,) = q(ledger, "SELECT status, status_reason FROM reminder")
    assert (rem.status, rem.status_reason) == ("cancelled", "renewed: expiry date moved")
    history = q(
        ledger, "SELECT change_kind, old_values, new_values FROM ledger_history ORDER BY id"
    )
    # the insert is the ledger row's own created_run and created_at (migration 0009); the first
    # change keeps the values it was inserted with as old_values
    assert [h.change_kind for h in history] == ["renewal"]
    old, new = (json.loads(v) for v in history[0][1:])
    assert old["expiry_date"] == str(TODAY + dt.timedelta(days=30))
    assert new["expiry_date"] == str(row.expiry_date)
    # the new cycle gets its own reminder when its window comes
    new_first = TODAY + dt.timedelta(days=5 * 365)
    plan_day(ledger, new_first)
    assert q(ledger, "SELECT COUNT(*) FROM reminder WHERE status = 'planned'")[0][0] == 1


@pytest.mark.mariadb
def test_renewal_application_suppresses_second_reminder(engines) -> None:  # type: ignore[no-untyped-def]
    ledger, source = engines
    put(source, licence("B0001", 7), licence("B0002", 7))
    run_sync(ledger, source)
    with ledger.begin() as conn:  # both were reminded once (stage 1 sent)
        for no in ("B0001", "B0002"):
            conn.execute(
                sa.text(
                    "INSERT INTO reminder (ledger_id, dept_code, licence_no, cycle, expiry_date, stage, channel,"
                    " due_on, planned_run, status, created_at, updated_at) SELECT id, dept_code, licence_no, 1,"
                    " expiry_date, 1, 'sms', :d, 'earlier', 'sent', :now, :now FROM ledger WHERE licence_no = :no"
                ),
                {"d": TODAY - dt.timedelta(days=23), "now": dt.datetime(2026, 11, 1), "no": no},
            )
    put(
        source,
        licence(
            "B0002",
            7,
            renewal_applied_on=TODAY - dt.timedelta(days=2),
            source_updated_at=dt.datetime(2026, 11, 3),
        ),
    )
    run_sync(ledger, source)
    plan_day(ledger, TODAY)
    assert reminders(ledger) == {
        ("B0001", 1): "sent",
        ("B0001", 2): "planned",
        ("B0002", 1): "sent",
    }


@pytest.mark.mariadb
def test_revoked_and_vanished_never_reminded(engines, capsys) -> None:  # type: ignore[no-untyped-def]
    from licence_reminder import cli

    ledger, source = engines
    put(source, licence("C0001", 30), licence("C0002", 30), licence("C0003", 30))
    run_sync(ledger, source)
    plan_day(ledger, TODAY)
    assert len(reminders(ledger)) == 3
    put(source, licence("C0001", 30, status="revoked", source_updated_at=dt.datetime(2026, 11, 5)))
    with source.begin() as conn:
        conn.execute(sa.text("DELETE FROM lic WHERE licence_no = 'C0002'"))
    out = run_sync(ledger, source, full=True)
    assert out.vanished == 1
    assert reminders(ledger) == {
        ("C0001", 1): "cancelled",
        ("C0002", 1): "cancelled",
        ("C0003", 1): "planned",
    }
    # kept, not deleted
    kept = {
        r.licence_no: (r.status, r.vanished_at is not None)
        for r in q(ledger, "SELECT licence_no, status, vanished_at FROM ledger")
    }
    assert kept == {
        "C0001": ("revoked", False),
        "C0002": ("valid", True),
        "C0003": ("valid", False),
    }
    assert cli.main(["summary", "--url", ledger.url.render_as_string(False)]) == 0
    summary = capsys.readouterr().out
    assert "inserted 0, updated 1, 1 gone from the source" in summary
    assert "3 licences (1 valid, 1 revoked, 0 cancelled, 1 gone from the source)" in summary
    assert "over a day ago" not in summary
    with ledger.begin() as conn:
        conn.execute(
            sa.text("UPDATE sync_run SET finished_at = :t"), {"t": dt.datetime(2026, 1, 1)}
        )
    assert cli.main(["summary", "--url", ledger.url.render_as_string(False)]) == 0
    assert "at 2026-01-01 00:00:00 (over a day ago: is its DAG paused" in capsys.readouterr().out
    plan_day(ledger, TODAY + dt.timedelta(days=23))
    assert ("C0001", 2) not in reminders(ledger) and ("C0002", 2) not in reminders(ledger)


@pytest.mark.mariadb
def test_failed_merge_leaves_ledger_unchanged(engines, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    ledger, source = engines
    put(source, licence("D0001", 30))
    run_sync(ledger, source)
    before = q(ledger, "SELECT * FROM ledger ORDER BY id")
    watermark = q(ledger, "SELECT watermark FROM sync_watermark")
    put(
        source,
        licence("D0001", 400, source_updated_at=dt.datetime(2026, 11, 6)),
        licence("D0002", 50, source_updated_at=dt.datetime(2026, 11, 6)),
        licence("D0003", 50, **NOT_IN_CATALOGUE, source_updated_at=dt.datetime(2026, 11, 6)),
    )
    for step in ("ledger_insert_new", "sync_run_finish"):  # after the update; at the very end
        with monkeypatch.context() as m, pytest.raises(InjectedFailure):
            fail_before(m, step)
            run_sync(ledger, source)
        assert q(ledger, "SELECT * FROM ledger ORDER BY id") == before
        assert q(ledger, "SELECT COUNT(*) FROM quarantine")[0][0] == 0
        assert q(ledger, "SELECT watermark FROM sync_watermark") == watermark
        assert q(ledger, "SELECT COUNT(*) FROM ledger_history")[0][0] == 0
    out = run_sync(ledger, source)  # the retry commits
    assert (out.inserted, out.updated, out.quarantined) == (1, 1, 1)


@pytest.mark.mariadb
def test_staging_is_empty_after_a_run_and_another_run_s_rows_are_kept(
    engines, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    """The run's staging rows go in its one transaction: none are left after it commits, or
    after it fails; another department's, staged at the same time, stay."""
    ledger, source = engines
    put(
        source,
        licence("G0001", 30),
        licence("G0002", 30, **NOT_IN_CATALOGUE),
        licence("G0003", 30, contact_mobile="12345"),
    )
    with ledger.begin() as conn:  # another department's run, staged at the same time
        conn.execute(
            sa.text(
                "INSERT INTO staging_key (run_id, dept_code, licence_no, kind) "
                "VALUES ('other:1', 'other', 'X1', 'vanished')"
            )
        )

    def staged() -> list[int]:
        return [
            q(ledger, f"SELECT COUNT(*) FROM {t}")[0][0]
            for t in ("staging_licence", "staging_rejection", "staging_key", "staging_warning")
        ]

    run_sync(ledger, source, full=True)
    assert staged() == [0, 0, 1, 0]
    assert q(ledger, "SELECT COUNT(*) FROM ledger")[0][0] == 2  # G0003 with its warning
    put(source, licence("G0001", 90, source_updated_at=dt.datetime(2026, 11, 6)))
    fail_before(monkeypatch, "sync_run_finish")
    with pytest.raises(InjectedFailure):
        run_sync(ledger, source)
    assert staged() == [0, 0, 1, 0]


@pytest.mark.mariadb
def test_fixed_row_leaves_quarantine(engines) -> None:  # type: ignore[no-untyped-def]
    ledger, source = engines
    put(source, licence("E0001", 30, **NOT_IN_CATALOGUE))
    run_sync(ledger, source)
    (qrow,) = q(ledger, "SELECT rules, resolved_at FROM quarantine")
    assert "licence_not_in_catalogue" in qrow.rules and qrow.resolved_at is None
    assert q(ledger, "SELECT COUNT(*) FROM ledger")[0][0] == 0
    put(source, licence("E0001", 30, source_updated_at=dt.datetime(2026, 11, 7)))
    out = run_sync(ledger, source)
    assert out.quarantine_resolved == 1
    (qrow,) = q(ledger, "SELECT resolved_at, resolved_run_id FROM quarantine")
    assert qrow.resolved_at is not None and qrow.resolved_run_id
    assert q(ledger, "SELECT COUNT(*) FROM ledger")[0][0] == 1


@pytest.mark.mariadb
def test_incremental_sync_reads_only_rows_past_the_watermark(engines) -> None:  # type: ignore[no-untyped-def]
    ledger, source = engines
    put(source, licence("F0001", 30), licence("F0002", 40))
    run_sync(ledger, source)
    (wm,) = q(ledger, "SELECT watermark FROM sync_watermark")
    assert str(wm[0]).startswith("2026-11-01 08:00")
    put(source, licence("F0002", 45, source_updated_at=dt.datetime(2026, 11, 9, 10)))
    plan = planning.start_run(ledger, DEPT, run_id="testdept:incr", logical_date=TODAY)
    assert plan.mode == "incremental"
    stats = sync.run(ledger, source, DEPT, CATALOGUE, plan, today=TODAY).stats
    assert stats.rows_read == 1 and stats.staged == 1
    (wm,) = q(ledger, "SELECT watermark FROM sync_watermark")
    assert str(wm[0]).startswith("2026-11-09 10:00")
    # nothing changed: nothing read (the stamps are far older than the lookback), nothing written
    plan = planning.start_run(ledger, DEPT, run_id="testdept:incr2", logical_date=TODAY)
    stats = sync.run(ledger, source, DEPT, CATALOGUE, plan, today=TODAY).stats
    assert stats.rows_read == 0


@pytest.mark.mariadb
def test_incremental_lookback_finds_late_commits_and_spares_quiet_registers(engines) -> None:  # type: ignore[no-untyped-def]
    """A source transaction that stamped its row before a run began to read, and committed after
    it, is found by the next run; an old bulk change is not read again by every run after it."""
    from licence_reminder.sync.extract import source_clock

    ledger, source = engines
    clock = source_clock(source, DEPT)
    minutes = dt.timedelta(minutes=1)
    put(
        source,
        *(
            licence(f"H{i:04d}", 30, source_updated_at=clock - 3 * 24 * 60 * minutes)
            for i in range(20)
        ),
    )  # one bulk change, three days ago
    run_sync(ledger, source)
    plan = planning.start_run(ledger, DEPT, run_id="testdept:quiet", logical_date=TODAY)
    assert plan.source_read_before and plan.source_read_before >= clock
    stats = sync.run(ledger, source, DEPT, CATALOGUE, plan, today=TODAY).stats
    assert stats.rows_read == 0  # the bulk is older than the lookback before the last read

    put(source, licence("H0100", 30, source_updated_at=clock - minutes))  # committed before the run
    plan = planning.start_run(ledger, DEPT, run_id="testdept:busy", logical_date=TODAY)
    stats = sync.run(ledger, source, DEPT, CATALOGUE, plan, today=TODAY).stats
    assert (stats.rows_read, stats.staged) == (1, 1)
    # stamped before that run began to read (two minutes before its clock), committed after it
    put(source, licence("H0101", 30, source_updated_at=clock - 2 * minutes))
    plan = planning.start_run(ledger, DEPT, run_id="testdept:late", logical_date=TODAY)
    assert (
        plan.read_after is not None and plan.read_after < clock - 2 * minutes < plan.watermark_from
    )
    stats = sync.run(ledger, source, DEPT, CATALOGUE, plan, today=TODAY).stats
    assert (stats.rows_read, stats.staged) == (2, 1)  # H0100 read again, unchanged; H0101 found
    assert q(ledger, "SELECT licence_no FROM ledger WHERE licence_no = 'H0101'") == [("H0101",)]
    (wm,) = q(ledger, "SELECT watermark FROM sync_watermark")
    assert str(wm[0])[:19] == str(clock - minutes)  # the watermark never moves back
    assert SyncPlan.from_xcom(plan.to_xcom()) == plan  # an XCom round trip keeps it whole


@pytest.mark.mariadb
def test_rerun_changes_nothing(engines) -> None:  # type: ignore[no-untyped-def]
    ledger, source = engines
    put(source, licence("G0001", 30), licence("G0002", 7))
    run_sync(ledger, source, full=True)
    before = q(ledger, "SELECT * FROM ledger ORDER BY id")
    out = run_sync(ledger, source, full=True)
    assert (out.inserted, out.updated, out.vanished) == (0, 0, 0)
    assert q(ledger, "SELECT * FROM ledger ORDER BY id") == before


@pytest.mark.mariadb
def test_ledger_export_attachment2_masked(engines, tmp_path) -> None:  # type: ignore[no-untyped-def]
    import re

    from licence_reminder.publish import LEDGER_HEADERS, export_ledger
    from openpyxl import load_workbook

    filled, source = engines
    put(source, licence("X0001", 30), licence("X0002", 10), licence("X0003", 20, status="revoked"))
    run_sync(filled, source)
    out = tmp_path / "ledger.xlsx"
    assert export_ledger(filled, out, dept_code="testdept") == 2  # the revoked one is left out
    ws = load_workbook(out).active
    assert tuple(c.value for c in ws[2]) == LEDGER_HEADERS
    first = [c.value for c in ws[3]]
    assert first[1] == "安阳市测试食品有限公司" or first[1] == "安阳市某某食品有限公司"
    assert "****" in first[6] and first[5].count("*") > 5
    assert isinstance(first[3], dt.datetime)
    full = tmp_path / "full.xlsx"
    export_ledger(filled, full, unmasked=True, include_inactive=True)
    ws = load_workbook(full).active
    headers = [c.value for c in ws[2]]
    assert headers[1] == "部门" and headers[-2:] == ["证照编号", "状态"]
    values = [[c.value for c in row] for row in ws.iter_rows(min_row=3)]
    assert sorted(v[-2:] for v in values) == [
        ["X0001", "有效"],
        ["X0002", "有效"],
        ["X0003", "吊销"],
    ]
    assert all(re.fullmatch(r"1\d{10}", v[7]) for v in values)


@pytest.mark.mariadb
def test_reminder_dates_follow_the_catalogue(engines) -> None:  # type: ignore[no-untyped-def]
    ledger, source = engines
    put(source, licence("H0001", 100))
    run_sync(ledger, source)
    expiry = TODAY + dt.timedelta(days=100)

    def dates() -> tuple[str, str]:
        (row,) = q(ledger, "SELECT first_reminder_on, second_reminder_on FROM ledger")
        return str(row[0]), str(row[1])

    assert dates() == (str(expiry - dt.timedelta(days=30)), str(expiry - dt.timedelta(days=7)))
    longer = CATALOGUE.entries[0].model_copy(update={"first_lead_days": 60})
    planning.register_department(ledger, DEPT, CATALOGUE.model_copy(update={"entries": [longer]}))
    assert dates() == (str(expiry - dt.timedelta(days=60)), str(expiry - dt.timedelta(days=7)))
    planning.register_department(ledger, DEPT, CATALOGUE)
    assert dates() == (str(expiry - dt.timedelta(days=30)), str(expiry - dt.timedelta(days=7)))


@pytest.mark.mariadb
def test_overlapping_runs_of_a_department_never_insert_a_licence_twice(mariadb_factory) -> None:  # type: ignore[no-untyped-def]
    """New licences go straight into the ledger in the run's open transaction. A second run of the
    department at the same time (a manual trigger while the schedule's runs) waits for the first
    one's rows and fails, changing nothing; tried again, it finds them in the ledger."""
    from licence_reminder import schema
    from licence_reminder.db import engine_from_url
    from licence_reminder.errors import TransientError

    ledger_url = mariadb_factory()
    ledger, impatient, source = (
        engine_from_url(ledger_url),
        engine_from_url(ledger_url),
        engine_from_url(mariadb_factory()),
    )
    sa.event.listen(
        impatient,
        "connect",
        lambda dbapi, _rec: dbapi.cursor().execute("SET SESSION innodb_lock_wait_timeout = 1"),
    )
    schema.upgrade(ledger)
    create_source_table(source)
    planning.register_department(ledger, DEPT, CATALOGUE)
    put(source, licence("R0001", 30), licence("R0002", 30))
    refused: list[BaseException] = []

    def second_run(conn, cursor, statement, *_args) -> None:  # type: ignore[no-untyped-def]
        if (
            statement.startswith("INSERT INTO ledger_history") and not refused
        ):  # the first run's merge
            plan = planning.start_run(
                impatient, DEPT, run_id="testdept:second", logical_date=TODAY, force_full=True
            )
            with pytest.raises(TransientError) as caught:
                sync.run(impatient, source, DEPT, CATALOGUE, plan, today=TODAY)
            refused.append(caught.value)

    sa.event.listen(ledger, "before_cursor_execute", second_run)
    first = planning.start_run(
        ledger, DEPT, run_id="testdept:first", logical_date=TODAY, force_full=True
    )
    try:
        out = sync.run(ledger, source, DEPT, CATALOGUE, first, today=TODAY).published
    finally:
        sa.event.remove(ledger, "before_cursor_execute", second_run)
    assert len(refused) == 1 and "Lock wait timeout" in str(refused[0])
    assert out.inserted == 2
    again = planning.start_run(
        impatient, DEPT, run_id="testdept:second", logical_date=TODAY, force_full=True
    )
    assert sync.run(impatient, source, DEPT, CATALOGUE, again, today=TODAY).published.inserted == 0
    assert [
        tuple(r)
        for r in q(ledger, "SELECT licence_no, created_run FROM ledger ORDER BY licence_no")
    ] == [("R0001", "testdept:first"), ("R0002", "testdept:first")]
    for engine in (ledger, impatient, source):
        engine.dispose()


@pytest.mark.mariadb
def test_rows_of_a_number_that_nothing_tells_apart_are_all_kept_in_quarantine(engines) -> None:  # type: ignore[no-untyped-def]
    """Two rows of one number changed at the same time, and no key: neither is loaded; both stay
    in quarantine, each with its own values and reasons."""
    ledger, source = engines
    put(source, licence("Q0001", 30, **NOT_IN_CATALOGUE))
    add_row(source, licence("Q0001", 60, holder_name="另一家公司"))
    run_sync(ledger, source, full=True)
    kept = q(
        ledger,
        "SELECT licence_no, rules, raw_values FROM quarantine WHERE resolved_at IS NULL ORDER BY rules",
    )
    assert [(r.licence_no, r.rules) for r in kept] == [
        ("Q0001", "duplicate_licence_no"),
        ("Q0001", "duplicate_licence_no,licence_not_in_catalogue"),
    ]
    assert "另一家公司" in kept[0].raw_values
    assert q(ledger, "SELECT COUNT(*) FROM ledger")[0][0] == 0
    run_sync(ledger, source, full=True)  # a second run refreshes both entries, adds none
    assert q(ledger, "SELECT COUNT(*) FROM quarantine")[0][0] == 2


@pytest.mark.mariadb
@pytest.mark.parametrize("first_mode", ["full", "incremental"])
def test_the_row_changed_last_of_a_duplicated_number_is_loaded_in_every_mode(
    engines, first_mode
) -> None:  # type: ignore[no-untyped-def]
    """A licence number the source holds twice: the row changed last is loaded, whether the run
    reads the whole extract or only changed rows, and the licence carries a duplicate_in_source
    warning; the other row waits in quarantine."""
    ledger, source = engines
    put(source, licence("U0001", 30), licence("U0002", 30))
    add_row(
        source,
        licence(
            "U0001",
            90,
            holder_name="另一家公司",
            contact_mobile="13900000009",
            source_updated_at=dt.datetime(2026, 10, 30, 8, 0),
        ),
    )
    assert run_sync(ledger, source, full=first_mode == "full").inserted == 2
    holder = "SELECT holder_name, contact_mobile FROM ledger WHERE licence_no = 'U0001'"
    assert q(ledger, holder) == [("安阳市某某食品有限公司", "13800000001")]
    warning = "SELECT rule FROM licence_warning WHERE licence_no = 'U0001' AND resolved_at IS NULL"
    assert q(ledger, warning) == [("duplicate_in_source",)]
    (reasons,) = q(
        ledger, "SELECT reasons FROM quarantine WHERE licence_no = 'U0001' AND resolved_at IS NULL"
    )
    assert "a row changed later (2026-11-01 08:00:00) is the one loaded" in reasons[0]

    with (
        source.begin() as conn
    ):  # the other row is changed last now: an incremental run reads only it
        conn.execute(
            sa.text("UPDATE lic SET source_updated_at = :t WHERE holder_name = '另一家公司'"),
            {"t": dt.datetime(2026, 11, 20, 9, 0)},
        )
    out = run_sync(ledger, source)
    assert out.updated == 1
    assert q(ledger, holder) == [("另一家公司", "13900000009")]
    assert q(ledger, warning) == [("duplicate_in_source",)]

    run_sync(ledger, source, full=True)  # a full run decides the same
    assert q(ledger, holder) == [("另一家公司", "13900000009")]
    with source.begin() as conn:  # the duplicate is removed at the source
        conn.execute(
            sa.text(
                "DELETE FROM lic WHERE holder_name = '安阳市某某食品有限公司' AND licence_no = 'U0001'"
            )
        )
    run_sync(ledger, source, full=True)
    assert q(ledger, warning) == []
    assert q(ledger, "SELECT COUNT(*) FROM quarantine WHERE resolved_at IS NULL")[0][0] == 0


@pytest.mark.mariadb
def test_duplicates_are_compared_as_the_validator_compares_not_by_the_source_collation(
    engines,
) -> None:  # type: ignore[no-untyped-def]
    """' V0001' is V0001 (trimmed), so its row changed later replaces the licence; 'v0002' is
    another licence than V0002 (case counts), so both load — though MariaDB's default collation
    ignores case and PostgreSQL's would not trim."""
    ledger, source = engines
    put(source, licence("V0001", 30), licence("V0002", 30))
    put(source, licence("v0002", 30, holder_name="小写公司"))
    add_row(
        source,
        licence(
            " V0001", 90, holder_name="另一家公司", source_updated_at=dt.datetime(2026, 10, 30)
        ),
    )
    assert run_sync(ledger, source, full=True).inserted == 3
    before = q(ledger, "SELECT licence_no, holder_name, expiry_date FROM ledger ORDER BY id")
    assert before[0][:2] == ("V0001", "安阳市某某食品有限公司")
    with source.begin() as conn:
        conn.execute(
            sa.text("UPDATE lic SET source_updated_at = :t WHERE holder_name = '另一家公司'"),
            {"t": dt.datetime(2026, 11, 20, 9, 0)},
        )
        conn.execute(
            sa.text(
                "UPDATE lic SET expiry_date = :e, source_updated_at = :t WHERE licence_no = 'V0002' "
                "AND holder_name = '安阳市某某食品有限公司'"
            ),
            {"e": TODAY + dt.timedelta(days=800), "t": dt.datetime(2026, 11, 20, 9, 0)},
        )
    out = run_sync(ledger, source)
    after = q(ledger, "SELECT licence_no, holder_name, expiry_date FROM ledger ORDER BY id")
    assert out.updated == 2
    assert [(r[0], r[1], str(r[2])[:10]) for r in after] == [
        ("V0001", "另一家公司", str(TODAY + dt.timedelta(days=90))),
        ("V0002", "安阳市某某食品有限公司", str(TODAY + dt.timedelta(days=800))),
        ("v0002", "小写公司", str(TODAY + dt.timedelta(days=30))),
    ]
    assert [tuple(r) for r in q(ledger, "SELECT licence_no, rule FROM licence_warning")] == [
        ("V0001", "duplicate_in_source")
    ]


@pytest.mark.mariadb
def test_full_run_stages_exactly_the_rows_the_ledger_does_not_hold(engines) -> None:  # type: ignore[no-untyped-def]
    """A full run stages no unchanged row, and every changed, returning (vanished before) and
    fixed (quarantined before) one."""
    ledger, source = engines
    put(
        source,
        licence("H0001", 30),
        licence("H0002", 30),
        licence("H0003", 30),
        licence("H0004", 30, **NOT_IN_CATALOGUE),
    )
    run_sync(ledger, source, full=True)
    with source.begin() as conn:
        conn.execute(sa.text("DELETE FROM lic WHERE licence_no = 'H0003'"))
    assert run_sync(ledger, source, full=True).vanished == 1
    put(
        source,
        licence("H0003", 30),
        licence("H0002", 30, contact_mobile="13900000002"),
        licence("H0004", 30),
    )
    plan = planning.start_run(
        ledger, DEPT, run_id="testdept:full-again", logical_date=TODAY, force_full=True
    )
    result = sync.run(ledger, source, DEPT, CATALOGUE, plan, today=TODAY)
    stats, out = result.stats, result.published
    assert (stats.rows_valid, stats.staged, stats.unchanged, stats.vanished) == (4, 3, 1, 0)
    assert (out.inserted, out.updated, out.quarantine_resolved) == (1, 2, 1)
    assert [
        tuple(r)
        for r in q(
            ledger,
            "SELECT licence_no, vanished_at IS NULL, contact_mobile FROM ledger "
            "ORDER BY licence_no",
        )
    ] == [
        ("H0001", 1, "13800000001"),
        ("H0002", 1, "13900000002"),
        ("H0003", 1, "13800000003"),
        ("H0004", 1, "13800000004"),
    ]


@pytest.mark.mariadb
def test_quarantine_listing_masks_a_licence_number_that_is_an_id_number(engines, capsys) -> None:  # type: ignore[no-untyped-def]
    from licence_reminder import cli

    ledger, source = engines
    put(source, licence("410505199003071234", 30, **NOT_IN_CATALOGUE))
    run_sync(ledger, source)
    (row,) = cli.quarantine_rows(ledger, DEPT.code)
    assert row["licence_no"] == row["raw_values"]["licence_no"] == "410*************34"
    assert (
        cli.main(["quarantine", "--dept", DEPT.code, "--url", ledger.url.render_as_string(False)])
        == 0
    )
    out = capsys.readouterr().out
    assert "licence 410*************34" in out and "410505199003071234" not in out
    assert q(ledger, "SELECT licence_no FROM quarantine") == [
        ("410505199003071234",)
    ]  # kept as it is


@pytest.mark.mariadb
def test_cli_names_an_unknown_department_and_why_the_last_sync_failed(engines, capsys) -> None:  # type: ignore[no-untyped-def]
    from licence_reminder import cli

    ledger, _source = engines
    url = ledger.url.render_as_string(False)
    assert cli.main(["quarantine", "--dept", "nosuch", "--url", url]) == 2
    assert (
        "no department 'nosuch' in the ledger database; its departments: testdept"
        in capsys.readouterr().err
    )
    plan = planning.start_run(ledger, DEPT, run_id="testdept:broken", logical_date=TODAY)
    planning.fail_run(
        ledger,
        plan.run_id,
        "department testdept: extract from connection 'src_test': "
        "(1292, \"Incorrect date value: '410505199001011233' for column `d`\")",
    )
    assert cli.main(["summary", "--url", url]) == 0
    out = capsys.readouterr().out
    assert "last sync   : failed" in out
    assert (
        "why         : department testdept: extract from connection 'src_test': (1292, \"Incorrect date value: '…'"
        in out
    )
    assert "410505199001011233" not in out
    assert (
        cli.main(
            ["ledger", "export", "--dept", "nosuch", "--url", url, "--out", "/nonexistent/x.xlsx"]
        )
        == 2
    )
    assert "no department 'nosuch' in the ledger database" in capsys.readouterr().err


def _keyed(where: str = "") -> Department:
    """DEPT reading ``lick``, a register keyed by ``id``: its rows carry their source key."""
    return Department.model_validate(
        {
            **DEPT.model_dump(),
            "source": {
                **DEPT.source.model_dump(),
                "extract_sql": f"SELECT * FROM lick {where}",
                "sync": {
                    "mode": "incremental",
                    "full_reconcile_weekday": None,
                    "split_column": "id",
                    "workers": 1,
                },
            },
        }
    )


@pytest.mark.mariadb
def test_quarantine_entries_close_by_source_key_and_say_how(engines, capsys) -> None:  # type: ignore[no-untyped-def]
    """A row given a licence number, or renumbered out of a duplicate, leaves quarantine at the
    next (incremental) run; a row the extract's WHERE drops leaves it as 'gone', not 'fixed'."""
    from licence_reminder import cli

    ledger, source = engines
    meta = sa.MetaData()
    sa.Table(
        "lick",
        meta,
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
        *(c.copy() for c in sa.Table("lic", sa.MetaData(), autoload_with=source).columns),
    )
    meta.create_all(source)
    stamp = dt.datetime(2026, 11, 1, 8, 0)
    rows = {
        1: licence("K0001", 30),
        2: licence("K0002", 30, licence_no=None),
        3: licence("K0001", 40, source_updated_at=stamp - dt.timedelta(days=1)),  # superseded by 1
        4: licence("K0004", 30, expiry_date=None),
    }
    with source.begin() as conn:
        for key, r in rows.items():
            conn.execute(
                sa.text(
                    f"INSERT INTO lick (id, {', '.join(r)}) VALUES (:id, "
                    f"{', '.join(':' + k for k in r)})"
                ),
                {"id": key, **r},
            )

    def run(dept: Department, *, full: bool) -> PublishStats:
        plan = planning.start_run(
            ledger,
            dept,
            run_id=f"testdept:run{next(run_numbers)}",
            logical_date=TODAY,
            force_full=full,
        )
        return sync.run(ledger, source, dept, CATALOGUE, plan, today=TODAY).published

    def entries() -> list[tuple]:
        return [
            tuple(r)
            for r in q(
                ledger,
                "SELECT record_key, source_key, resolution FROM quarantine ORDER BY record_key",
            )
        ]

    run(_keyed(), full=True)
    assert entries() == [("K0001#k3", "3", None), ("K0004", "4", None), ("row:k2", "2", None)]
    url = ledger.url.render_as_string(False)
    assert cli.main(["quarantine", "--dept", DEPT.code, "--url", url, "--limit", "1"]) == 0
    assert (
        "3 row(s) in quarantine (the newest 1 shown: --limit 3 shows all;"
        in capsys.readouterr().out
    )

    with source.begin() as conn:  # fixed at the source under numbers the quarantine never saw
        conn.execute(
            sa.text(
                "UPDATE lick SET licence_no = CASE id WHEN 2 THEN 'K0002' ELSE 'K0003' END, "
                "source_updated_at = :t WHERE id IN (2, 3)"
            ),
            {"t": stamp + dt.timedelta(days=1)},
        )
    out = run(_keyed(), full=False)
    assert (out.inserted, out.quarantine_resolved) == (2, 2)
    assert entries() == [("K0001#k3", "3", "fixed"), ("K0004", "4", None), ("row:k2", "2", "fixed")]

    run(_keyed("WHERE expiry_date IS NOT NULL"), full=True)
    assert entries() == [
        ("K0001#k3", "3", "fixed"),
        ("K0004", "4", "gone"),
        ("row:k2", "2", "fixed"),
    ]
    assert cli.main(["quarantine", "--dept", DEPT.code, "--url", url]) == 0
    assert "testdept: nothing in quarantine" in capsys.readouterr().out
    assert cli.main(["quarantine", "--dept", DEPT.code, "--url", url, "--resolved"]) == 0
    listing = capsys.readouterr().out
    assert (
        listing.count("(fixed: seen valid)") == 2
        and listing.count("(gone: a full run no longer read the row)") == 1
    )
    assert "licence K0004 (source key 4," in listing


@pytest.mark.mariadb
def test_row_without_number_or_source_key_keeps_its_entry_when_only_its_stamp_moves(
    engines,
) -> None:  # type: ignore[no-untyped-def]
    ledger, source = engines
    put(source, licence("X0009", 30, licence_no=None))
    run_sync(ledger, source)
    with source.begin() as conn:
        conn.execute(
            sa.text("UPDATE lic SET source_updated_at = :t"),
            {"t": dt.datetime(2026, 11, 3, 8, 0, 0, 500)},
        )
    run_sync(ledger, source)
    (entry,) = q(ledger, "SELECT record_key, first_run_id <> run_id, resolved_at FROM quarantine")
    assert entry[0].startswith("row:") and entry[1] and entry[2] is None


@pytest.mark.mariadb
def test_a_revocation_in_a_rejected_row_is_merged_and_stops_reminders(engines) -> None:  # type: ignore[no-untyped-def]
    """A revoked licence whose row is also bad (expiry before issue) must not stay valid, and be
    reminded, until someone fixes the row; the row, once fixed, merges whole."""
    ledger, source = engines
    put(source, licence("R0001", 30), licence("R0002", 30))
    run_sync(ledger, source)
    plan_day(ledger, TODAY)
    put(
        source,
        licence(
            "R0001",
            30,
            status="吊销",
            contact_mobile="1380372",
            issue_date=TODAY + dt.timedelta(days=100),
            source_updated_at=dt.datetime(2026, 11, 5),
        ),
    )
    run_sync(ledger, source)
    rows = {r.licence_no: (r.status, r.contact_mobile) for r in q(ledger, "SELECT * FROM ledger")}
    assert rows == {"R0001": ("revoked", "13800000001"), "R0002": ("valid", "13800000002")}
    assert reminders(ledger) == {("R0001", 1): "cancelled", ("R0002", 1): "planned"}
    ((old, new),) = q(
        ledger,
        "SELECT old_values, new_values FROM ledger_history "
        "WHERE licence_no = 'R0001' AND change_kind = 'update'",
    )
    assert json.loads(old)["status"] == "valid" and json.loads(new)["status"] == "revoked"
    assert json.loads(new) == {**json.loads(old), "status": "revoked"}
    assert q(ledger, "SELECT rules FROM quarantine WHERE resolved_at IS NULL") == [
        ("expiry_before_issue,mobile_format",)
    ]
    assert run_sync(ledger, source, full=True).quarantined == 1  # the entry refreshed, counted once

    # reinstated with exactly the values it was first loaded with: merged, and reminded again
    put(source, licence("R0001", 30, source_updated_at=dt.datetime(2026, 11, 6)))
    out = run_sync(ledger, source)
    assert out.updated == 1 and out.quarantine_resolved == 1
    assert q(ledger, "SELECT status FROM ledger WHERE licence_no = 'R0001'") == [("valid",)]
    plan_day(ledger, TODAY + dt.timedelta(days=1))
    assert reminders(ledger) == {("R0001", 1): "planned", ("R0002", 1): "planned"}


@pytest.mark.mariadb
def test_a_licence_valid_again_is_reminded_again_in_the_same_cycle(engines) -> None:  # type: ignore[no-untyped-def]
    ledger, source = engines
    put(source, licence("W0001", 30), licence("W0002", 30), licence("W0003", 30))
    run_sync(ledger, source)
    plan_day(ledger, TODAY)
    put(
        source,
        licence("W0001", 30, status="revoked", source_updated_at=dt.datetime(2026, 11, 5)),
        licence("W0003", 20, source_updated_at=dt.datetime(2026, 11, 5)),
    )  # expiry corrected, earlier
    with source.begin() as conn:
        conn.execute(sa.text("DELETE FROM lic WHERE licence_no = 'W0002'"))
    run_sync(ledger, source, full=True)
    assert {
        r.licence_no: r.status_reason
        for r in q(ledger, "SELECT licence_no, status_reason FROM reminder")
    } == {
        "W0001": "licence revoked",
        "W0002": "licence no longer in the source",
        "W0003": "expiry date corrected to an earlier one",
    }

    put(
        source,
        licence("W0001", 30, source_updated_at=dt.datetime(2026, 11, 6)),
        licence("W0002", 30),
    )
    run_sync(ledger, source, full=True)
    plan_day(ledger, TODAY + dt.timedelta(days=1))
    got = {
        (
            r.licence_no,
            r.stage,
            r.expiry_date.isoformat()[:10]
            if hasattr(r.expiry_date, "isoformat")
            else str(r.expiry_date)[:10],
        ): (r.status, r.status_reason)
        for r in q(
            ledger, "SELECT licence_no, stage, expiry_date, status, status_reason FROM reminder"
        )
    }
    day = (TODAY + dt.timedelta(days=30)).isoformat()
    assert (
        got[("W0001", 1, day)]
        == got[("W0002", 1, day)]
        == ("planned", "reopened: the licence is valid again")
    )
    assert got[("W0003", 1, day)] == ("cancelled", "expiry date corrected to an earlier one")
    assert got[("W0003", 1, (TODAY + dt.timedelta(days=20)).isoformat())] == ("planned", None)
    plan_day(ledger, TODAY + dt.timedelta(days=1))  # planning again changes nothing
    assert len(q(ledger, "SELECT id FROM reminder")) == 4


@pytest.mark.mariadb
def test_a_full_run_that_would_empty_the_department_fails_and_changes_nothing(engines) -> None:  # type: ignore[no-untyped-def]
    from licence_reminder.errors import PermanentError

    ledger, source = engines
    put(source, *(licence(f"E{i:04d}", 30) for i in range(1, 13)))
    run_sync(ledger, source)
    with source.begin() as conn:
        conn.execute(sa.text("DELETE FROM lic"))  # an emptied table, as after a failed reload
    before = q(ledger, "SELECT * FROM ledger ORDER BY id")
    with pytest.raises(
        PermanentError, match=r"would mark 12 of the ledger's 12 active licences \(100%\)"
    ):
        run_sync(ledger, source, full=True)
    assert q(ledger, "SELECT * FROM ledger ORDER BY id") == before

    allowed = DEPT.model_copy(
        update={
            "source": DEPT.source.model_copy(
                update={"sync": DEPT.source.sync.model_copy(update={"max_vanished_share": 1.0})}
            )
        }
    )
    plan = planning.start_run(
        ledger,
        allowed,
        run_id=f"testdept:run{next(run_numbers)}",
        logical_date=TODAY,
        force_full=True,
    )
    assert sync.run(ledger, source, allowed, CATALOGUE, plan, today=TODAY).published.vanished == 12


@pytest.mark.mariadb
def test_values_too_long_for_the_ledger_are_quarantined_not_fatal(engines) -> None:  # type: ignore[no-untyped-def]
    """A MariaDB ledger refuses a value wider than its column: the row is rejected and kept, the
    run goes on (an 80-character number and a 30,000-character name had failed the whole run)."""
    ledger, source = engines
    if source.dialect.name != "sqlite":
        with source.begin() as conn:
            conn.exec_driver_sql("ALTER TABLE lic MODIFY holder_name MEDIUMTEXT")
    long_no = "豫交运管许可安字" + "8" * 71 + "号"
    put(
        source,
        licence("L0001", 30),
        licence(long_no[:-1] + "0002", 30),
        licence("L0003", 30, holder_name="安阳市" * 10_000),
    )
    out = run_sync(ledger, source)
    assert (out.inserted, out.quarantined) == (
        2,
        1,
    )  # the name is left out: the licence is still reminded
    rows = {r.rules: r for r in q(ledger, "SELECT licence_no, rules, raw_values FROM quarantine")}
    assert set(rows) == {"text_value:licence_no"}
    assert (
        json.loads(rows["text_value:licence_no"].raw_values)["licence_no"] == long_no[:-1] + "0002"
    )
    assert q(ledger, "SELECT holder_name FROM ledger WHERE licence_no = 'L0003'") == [(None,)]
    assert [tuple(r) for r in q(ledger, "SELECT licence_no, rule FROM licence_warning")] == [
        ("L0003", "text_value:holder_name")
    ]


@pytest.mark.mariadb
def test_a_retired_department_is_never_reminded_and_comes_back_whole(
    engines, capsys, tmp_path
) -> None:  # type: ignore[no-untyped-def]
    from licence_reminder import cli

    ledger, source = engines
    url = ledger.url.render_as_string(False)
    put(
        source, licence("R0001", 30), licence("R0002", 30), licence("R0003", 30, **NOT_IN_CATALOGUE)
    )
    run_sync(ledger, source, full=True)
    plan_day(ledger, TODAY)
    assert reminders(ledger) == {("R0001", 1): "planned", ("R0002", 1): "planned"}
    registry = tmp_path / "departments"
    registry.mkdir()
    (registry / "testdept.yaml").write_text("code: testdept\n")
    args = ["department", "retire", "testdept", "--url", url, "--registry-dir", str(registry)]
    assert cli.main(args) == 2  # its file is still registered
    assert "testdept.yaml is still registered" in capsys.readouterr().err
    (registry / "testdept.yaml").unlink()
    before = q(ledger, "SELECT licence_no, vanished_at FROM ledger ORDER BY licence_no")

    assert cli.main(args) == 1  # says what it would do, does nothing
    assert "2 licence(s) would be marked vanished" in capsys.readouterr().out
    assert q(ledger, "SELECT licence_no, vanished_at FROM ledger ORDER BY licence_no") == before
    assert q(ledger, "SELECT COUNT(*) FROM sync_run WHERE mode = 'retire'") == [(0,)]

    assert cli.main([*args, "--yes"]) == 0
    out = capsys.readouterr().out
    assert "2 licence(s) marked vanished" in out and "2 unsent reminder(s)" in out
    assert "1 open quarantine entr(ies) closed" in out
    assert all(r.vanished_at is not None for r in q(ledger, "SELECT vanished_at FROM ledger"))
    assert set(reminders(ledger).values()) == {"cancelled"}
    assert q(ledger, "SELECT COUNT(*) FROM quarantine WHERE resolved_at IS NULL") == [(0,)]
    assert q(ledger, "SELECT COUNT(*) FROM sync_watermark") == [(0,)]
    assert [
        tuple(r)
        for r in q(ledger, "SELECT mode, status, vanished FROM sync_run WHERE mode = 'retire'")
    ] == [("retire", "success", 2)]
    assert q(ledger, "SELECT COUNT(*) FROM ledger_history WHERE change_kind = 'vanish'") == [(2,)]
    plan_day(ledger, TODAY + dt.timedelta(days=1))
    assert set(reminders(ledger).values()) == {"cancelled"}
    assert cli.main(["summary", "--url", url]) == 0
    assert "  retired     : at " in capsys.readouterr().out
    assert cli.main(["quarantine", "--dept", "testdept", "--resolved", "--url", url]) == 0
    assert "retired: the department was taken out" in capsys.readouterr().out

    # back in the registry: with no watermark its first run is full, and its licences return
    plan = planning.start_run(
        ledger, DEPT, run_id="testdept:back", logical_date=TODAY + dt.timedelta(days=2)
    )
    assert plan.mode == "full"
    sync.run(ledger, source, DEPT, CATALOGUE, plan, today=TODAY + dt.timedelta(days=2))
    assert all(r.vanished_at is None for r in q(ledger, "SELECT vanished_at FROM ledger"))
    plan_day(ledger, TODAY + dt.timedelta(days=2))
    assert reminders(ledger) == {("R0001", 1): "planned", ("R0002", 1): "planned"}
