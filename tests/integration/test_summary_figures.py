"""The summary's figures (``figures``, migration 0026): taken at the end of a department's sync,
of ``department retire`` and of the day's dispatch, they are what a live count of every table
says; a department never taken, or a part of it, is counted live. MariaDB and SQLite."""

from __future__ import annotations

import contextlib
import datetime as dt
from typing import Any

import pytest
import sqlalchemy as sa
from licence_reminder import cli, figures, tasks
from licence_reminder.sync.retire import retire_department
from support.dispatch_world import gateway, prepare, send
from support.ledger_world import (
    NOT_IN_CATALOGUE,
    TODAY,
    add_row,
    licence,
    plan_day,
    put,
    q,
    run_sync,
)


def summary(ledger: sa.Engine, *, live: bool = False, today: dt.date = TODAY) -> list[dict]:
    return cli.department_summary(ledger, price=0.05, today=today, live=live)


def without_taken(rows: list[dict]) -> list[dict]:
    return [{k: v for k, v in r.items() if k != "figures_taken_at"} for r in rows]


def as_live(ledger: sa.Engine, *, today: dt.date = TODAY) -> dict[str, Any]:
    """The summary from the figures is the live count's, on any day asked; its one row."""
    kept = summary(ledger, today=today)
    assert without_taken(kept) == without_taken(summary(ledger, live=True, today=today))
    (row,) = kept
    return row


@pytest.mark.mariadb
def test_taken_at_the_end_of_each_sync_and_retire_as_a_live_count(engines) -> None:  # type: ignore[no-untyped-def]
    ledger, source = engines
    put(
        source,
        licence("F0001", 30),
        licence("F0002", 200),
        licence("F0003", 500),
        licence("F0004", 30, status="revoked"),
        licence("F0005", 30, **NOT_IN_CATALOGUE),  # quarantined
        licence("F0006", 40),
    )
    add_row(  # its number twice: the row changed last is loaded with a warning, one quarantined
        source,
        licence(
            "F0006",
            90,
            holder_name="另一家公司",
            contact_mobile="13900000009",
            source_updated_at=dt.datetime(2026, 10, 30, 8, 0),
        ),
    )
    run_sync(ledger, source)
    row = as_live(ledger)
    # no reminder cancelled: the dispatch part is left to the dispatch (counted live till then)
    assert row["figures_taken_at"]["ledger"] and row["figures_taken_at"]["dispatch"] is None
    assert (row["in_ledger"], row["revoked"], row["in_quarantine"]) == (5, 1, 2)
    assert row["with_warnings"] == 1
    assert row["sms"]["expiring_next_365_days"] == 3
    assert (
        as_live(ledger, today=TODAY + dt.timedelta(days=150))["sms"]["expiring_next_365_days"] == 2
    )  # the histogram serves any day asked

    plan_day(ledger, TODAY)  # the dispatch's plan: its figures are taken when the dispatch ends
    assert summary(ledger)[0]["reminders"] > 0  # never taken: counted live

    with source.begin() as conn:
        conn.execute(sa.text("DELETE FROM lic WHERE licence_no = 'F0001'"))
    run_sync(ledger, source, full=True)  # vanished, its reminders cancelled: taken again
    row = as_live(ledger)
    assert row["figures_taken_at"]["dispatch"] is not None
    assert row["vanished"] == 1 and row["reminders_cancelled"] == 1

    retire_department(ledger, "testdept", commit=True)
    row = as_live(ledger)
    assert row["vanished"] == row["in_ledger"] and row["sms"]["expiring_next_365_days"] == 0


@pytest.mark.mariadb
def test_a_department_or_part_never_taken_is_counted_live(engines, capsys) -> None:  # type: ignore[no-untyped-def]
    ledger, source = engines
    put(source, licence("N0001", 30), licence("N0002", 90, status="revoked"))
    run_sync(ledger, source)
    plan_day(ledger, TODAY)
    figures.refresh(ledger, ["testdept"])
    row = summary(ledger)[0]
    assert row["reminders"] > 0 and row["figures_taken_at"]["dispatch"] is not None
    with ledger.begin() as conn:  # as a failed taking leaves it: the dispatch part forgotten
        conn.execute(sa.text("UPDATE department_figures SET dispatch_taken_at = NULL"))
    row = as_live(ledger)
    assert row["reminders"] > 0 and row["figures_taken_at"]["dispatch"] is None
    assert row["figures_taken_at"]["ledger"] is not None

    with ledger.begin() as conn:  # never taken (a ledger migrated before 0026, not synced since)
        for table in (
            "department_figures",
            "department_expiry_figures",
            "department_segment_figures",
        ):
            conn.execute(sa.text(f"DELETE FROM {table}"))
    row = as_live(ledger)
    assert row["figures_taken_at"] == {"ledger": None, "dispatch": None}
    assert (row["in_ledger"], row["revoked"], row["sms"]["expiring_next_365_days"]) == (2, 1, 1)
    assert cli.main(["summary", "--url", ledger.url.render_as_string(False)]) == 0
    assert "  figures     : ledger counted now, reminders and messages counted now" in (
        capsys.readouterr().out
    )


@pytest.mark.mariadb
def test_taken_at_the_end_of_the_dispatch_as_a_live_count(setup, monkeypatch, capsys) -> None:  # type: ignore[no-untyped-def]
    """Sent through the simulator, one delivered and one not (a call task): the dispatch's last
    task, the receipts, takes every department's dispatch figures."""
    from licence_reminder import receipts

    ledger, _, sim, _ = setup
    cfg, gw = gateway(setup, "aliyun")
    prepare(setup, cfg, "D0001", "D0002")
    sim.set_faults([{"fault": "undelivered", "mobile_suffix": "0002"}])
    assert send(ledger, gw) == {"sent": 2}
    figures.refresh(ledger, ["testdept"], parts=("dispatch",))  # as yesterday's dispatch left them
    assert summary(ledger)[0]["messages_sent"] == 2  # as taken, before the day's reports

    monkeypatch.setattr(tasks, "ledger_engine", lambda settings=None: ledger)
    monkeypatch.setattr(tasks, "_gateways", lambda: contextlib.nullcontext(lambda _: gw))
    calls_before = q(ledger, "SELECT COUNT(*) FROM call_task")[0][0]
    tasks.dispatch_receipts(today=str(TODAY), run_id="d1")
    assert q(ledger, "SELECT COUNT(*) FROM call_task")[0][0] > calls_before
    row = as_live(ledger)
    assert row["messages_sent"] == 1 and row["messages_delivered"] == 1
    assert row["messages_failed"] == 1 and row["call_tasks"] == 1 and row["gateway_calls"] == 2
    assert row["sms"]["messages"] == 2 and row["channels"]["sms"]["reached"] == 1
    taken = row["figures_taken_at"]
    assert taken["dispatch"] >= taken["ledger"]
    assert receipts.collect(ledger, lambda _: gw, run_id="r2") == {}  # nothing left to take

    assert cli.main(["summary", "--url", ledger.url.render_as_string(False)]) == 0
    assert f"reminders and messages as of {str(taken['dispatch'])[:19]}" in capsys.readouterr().out

    # a call outcome recorded after the dispatch took its figures: counted now, not at the next
    # dispatch (the department's part is counted live until then)
    from licence_reminder import calls

    task_id = q(ledger, "SELECT id FROM call_task")[0][0]
    calls.record_outcome(ledger, task_id, "reached_renewing", by="staff", today=TODAY)
    row = as_live(ledger)
    assert row["calls_reached"] == 1 and row["figures_taken_at"]["dispatch"] is None


def test_refresh_names_its_parts(ledger_sqlite) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ValueError, match="unknown figures part"):
        figures.refresh(ledger_sqlite, ["x"], parts=("ledgers",))


@pytest.mark.mariadb
def test_figures_taken_later_are_never_overwritten_by_older_ones(engines) -> None:  # type: ignore[no-untyped-def]
    """A sync's and the dispatch's takings of one department may overlap: the one that started
    counting first does not write over the other's."""
    ledger, source = engines
    put(source, licence("O0001", 30))
    run_sync(ledger, source)
    later = dt.datetime(2030, 1, 1, 8, 0)
    figures.refresh(ledger, ["testdept"], now=later)
    with ledger.begin() as conn:  # what the older taking would write, were it let
        conn.execute(sa.text("DELETE FROM ledger"))
    figures.refresh(ledger, ["testdept"], now=later - dt.timedelta(minutes=1))
    row = summary(ledger)[0]
    assert {k: str(v)[:19] for k, v in row["figures_taken_at"].items()} == {
        "ledger": "2030-01-01 08:00:00",
        "dispatch": "2030-01-01 08:00:00",
    }
    assert row["in_ledger"] == 1 and row["sms"]["expiring_next_365_days"] == 1
