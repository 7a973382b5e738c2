"""The planner reads only the cycles that can need something today (ledger.next_check_on,
docs/adr/0504-planner-next-check.md), and misses nothing by it: on every day of a sequence of
syncs that change licences, planning again with every cycle looked at plans and cancels nothing
more."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
import sqlalchemy as sa
from licence_reminder import dispatch
from licence_reminder.channels.policy import ChannelPolicy
from licence_reminder.policy import NEVER
from licence_reminder.sync import plan as planning
from support.ledger_world import CATALOGUE, DEPT, TODAY, licence, put, q, reminders, run_sync


def d(n: int) -> dt.date:
    return TODAY + dt.timedelta(days=n)


def next_checks(ledger: sa.Engine) -> dict[str, Any]:
    return {
        r.licence_no: dispatch.as_date(r.next_check_on)
        for r in q(ledger, "SELECT licence_no, next_check_on FROM ledger")
    }


def plan_everything_again(ledger: sa.Engine, day: dt.date) -> dict[str, int]:
    """What the planner would still do on ``day`` if it looked at every cycle."""
    with ledger.begin() as conn:
        conn.execute(sa.text("UPDATE ledger SET next_check_on = NULL"))
        conn.execute(sa.text("UPDATE catalogue_entry SET checked_channels = NULL"))
    return dispatch.plan(ledger, today=day, run_id=f"control:{day}")


def sync_applies_while_planning(
    monkeypatch: pytest.MonkeyPatch, licence_no: str, applied_on: dt.date
) -> None:
    """Until ``monkeypatch.undo()``, a sync records a renewal application for ``licence_no``
    between the planner's read and its write of the next checks."""
    real = dispatch._record_next_checks

    def sync_meanwhile(conn: sa.Connection, checks: list[dict[str, Any]]) -> None:
        # what a sync's UPDATE does to the row between the planner's read and its write
        conn.execute(
            sa.text(
                "UPDATE ledger SET renewal_applied_on = :on, next_check_on = NULL, "
                "updated_at = :later WHERE licence_no = :no"
            ),
            {"on": applied_on, "later": dt.datetime(2030, 1, 1), "no": licence_no},
        )
        real(conn, checks)

    monkeypatch.setattr(dispatch, "_record_next_checks", sync_meanwhile)


def test_each_cycle_is_looked_at_again_on_its_next_reminder_day_only(engines) -> None:  # type: ignore[no-untyped-def]
    ledger, source = engines
    put(
        source,
        licence("A0001", 100),  # nothing due for 70 days
        licence("A0002", 30),  # stage 1 today, stage 2 in 23 days
        licence("A0003", 5),  # stage 2 today (caught up late): nothing after it
        licence("A0004", 20, status="revoked"),
        licence("A0005", -3),  # expired
    )
    run_sync(ledger, source)
    assert set(next_checks(ledger).values()) == {None}

    numbers = {r.id: r.licence_no for r in q(ledger, "SELECT id, licence_no FROM ledger")}
    looked_at: list[set[str]] = []
    real = dispatch.next_check  # called once for every cycle the planner reads

    def noting(state: Any, due_by: dt.date) -> dt.date:
        looked_at[-1].add(numbers[state.ledger_id])
        return real(state, due_by)

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(dispatch, "next_check", noting)
        for day, run in ((TODAY, "day0"), (d(1), "day1"), (d(23), "day23")):
            looked_at.append(set())
            dispatch.plan(ledger, today=day, run_id=run)

    assert reminders(ledger) == {
        ("A0002", 1): "cancelled",  # never sent here: superseded by the second
        ("A0003", 2): "planned",
        ("A0002", 2): "planned",
    }
    assert looked_at[0] == {"A0001", "A0002", "A0003"}  # the revoked and the expired are parked
    assert looked_at[1] == set()  # the day after: nothing is due, nothing is read
    assert looked_at[2] == {"A0002"}
    checks = next_checks(ledger)
    assert checks["A0001"] == d(70)  # its first reminder day
    assert checks["A0002"] == checks["A0003"] == checks["A0004"] == checks["A0005"] == NEVER


def test_over_changing_days_looking_at_every_cycle_finds_nothing_more_to_do(engines) -> None:  # type: ignore[no-untyped-def]
    ledger, source = engines
    rows = [licence(f"B{i:04d}", 10 + 4 * i) for i in range(12)]
    put(source, *rows)
    run_sync(ledger, source)
    for day in range(45):
        today = d(day)
        # what syncs bring on some days: an application, a revocation and its reversal, a
        # renewed licence (a later expiry: a new cycle), a licence back after vanishing
        if day == 3:
            put(source, {**rows[5], "renewal_applied_on": today})
        if day == 9:  # after its first reminder was planned on day 8
            put(source, {**rows[7], "status": "revoked"})
        if day == 11:
            put(source, rows[7])
        if day == 12:
            put(source, {**rows[2], "expiry_date": d(400)})
        if day in (3, 9, 11, 12):
            run_sync(ledger, source, full=True, today=today)
        done = dispatch.plan(ledger, today=today, run_id=f"day{day}")
        missed = plan_everything_again(ledger, today)
        assert missed == {}, f"day {day}: the next-check planner missed {missed} (it did {done})"
    stages = reminders(ledger)
    assert ("B0005", 2) not in stages  # applied before its second reminder day
    # withdrawn when revoked on day 9 (after its first reminder on day 8), reopened on day 11
    first = q(ledger, "SELECT planned_run FROM reminder WHERE licence_no = 'B0007' AND stage = 1")
    assert [r.planned_run for r in first] == ["day11"]


def test_a_sync_that_changes_a_cycle_sets_its_next_check_back(engines) -> None:  # type: ignore[no-untyped-def]
    ledger, source = engines
    row = licence("C0001", 30)
    put(source, row)
    run_sync(ledger, source)
    dispatch.plan(ledger, today=TODAY, run_id="day0")
    assert next_checks(ledger)["C0001"] == d(23)
    put(
        source,
        {**row, "renewal_applied_on": d(2), "source_updated_at": dt.datetime(2026, 11, 26, 9)},
    )
    run_sync(ledger, source, today=d(2))
    assert next_checks(ledger)["C0001"] is None
    assert dispatch.plan(ledger, today=d(2), run_id="day2") == {"cancelled": 1}
    assert reminders(ledger) == {("C0001", 1): "cancelled"}


def test_a_cycle_a_sync_changes_while_it_is_planned_is_looked_at_again(
    engines, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    ledger, source = engines
    put(source, licence("D0001", 30))
    run_sync(ledger, source)
    sync_applies_while_planning(monkeypatch, "D0001", TODAY)
    dispatch.plan(ledger, today=TODAY, run_id="day0")
    assert next_checks(ledger)["D0001"] is None
    monkeypatch.undo()
    assert dispatch.plan(ledger, today=d(1), run_id="day1") == {"cancelled": 1}


def test_a_cycle_due_again_that_a_sync_changes_while_it_is_planned_is_looked_at_again(
    engines, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    """The usual path: the cycle had its day from an earlier planning (d+23, its second reminder)."""
    ledger, source = engines
    put(source, licence("D0002", 30))
    run_sync(ledger, source)
    dispatch.plan(ledger, today=TODAY, run_id="day0")
    assert next_checks(ledger)["D0002"] == d(23)
    sync_applies_while_planning(monkeypatch, "D0002", d(23))
    assert dispatch.plan(ledger, today=d(23), run_id="day23") == {"planned": 1, "cancelled": 1}
    assert next_checks(ledger)["D0002"] is None
    monkeypatch.undo()
    # looked at again: the application withdraws the second reminder planned on old values
    assert dispatch.plan(ledger, today=d(24), run_id="day24") == {"cancelled": 1}
    assert next_checks(ledger)["D0002"] == NEVER


def test_a_channel_added_to_the_policy_reaches_cycles_already_reminded(engines) -> None:  # type: ignore[no-untyped-def]
    ledger, source = engines
    put(source, licence("E0001", 20))
    run_sync(ledger, source)
    dispatch.plan(ledger, today=TODAY, run_id="day0")
    assert next_checks(ledger)["E0001"] == d(13)
    entry = CATALOGUE.entries[0].model_copy(
        update={"channels": ChannelPolicy(stage1=("sms", "prompt"), stage2=("sms", "prompt"))}
    )
    planning.register_department(ledger, DEPT, CATALOGUE.model_copy(update={"entries": [entry]}))
    assert dispatch.plan(ledger, today=d(1), run_id="day1") == {"planned": 1}
    channels = {(r.channel, r.stage) for r in q(ledger, "SELECT channel, stage FROM reminder")}
    assert channels == {("sms", 1), ("prompt", 1)}
    assert q(ledger, "SELECT checked_channels FROM catalogue_entry")[0][0] != ""
    assert dispatch.plan(ledger, today=d(2), run_id="day2") == {}
