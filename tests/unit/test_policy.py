"""The reminder policy, case by case."""

from __future__ import annotations

import datetime as dt

import pytest
from licence_reminder.policy import NEVER, LicenceState, Policy, Stage, decide, next_check

TODAY = dt.date(2026, 11, 24)


def state(expiry_in: int, **kw) -> LicenceState:
    base = {
        "ledger_id": 1,
        "expiry_date": TODAY + dt.timedelta(days=expiry_in),
        "status": "valid",
        "vanished": False,
        "renewal_applied_on": None,
        "first_lead_days": 30,
        "second_lead_days": 7,
        "reminders": {},
    }
    base.update(kw)
    return LicenceState(**base)


@pytest.mark.parametrize(
    ("licence", "expected"),
    [
        pytest.param(state(31), None, id="before-first-lead"),
        pytest.param(state(30), Stage.FIRST, id="first-reminder-day"),
        pytest.param(state(12), Stage.FIRST, id="late-entry-inside-first-window-caught-up"),
        pytest.param(state(8), Stage.FIRST, id="last-day-of-first-window"),
        pytest.param(state(7), Stage.SECOND, id="second-reminder-day-never-reminded"),
        pytest.param(state(3), Stage.SECOND, id="late-entry-inside-last-7-days-one-stage2"),
        pytest.param(state(0), Stage.SECOND, id="expiry-day"),
        pytest.param(state(-1), None, id="after-expiry-nothing"),
        pytest.param(state(7, reminders={1: "sent"}), Stage.SECOND, id="reminded-once-gets-stage2"),
        pytest.param(state(7, reminders={1: "sent", 2: "sent"}), None, id="stage2-once"),
        pytest.param(state(20, reminders={1: "delivered"}), None, id="stage1-once"),
        pytest.param(state(20, status="revoked"), None, id="revoked-never"),
        pytest.param(state(20, status="cancelled"), None, id="cancelled-never"),
        pytest.param(state(20, vanished=True), None, id="vanished-never"),
        pytest.param(
            state(20, reminders={1: "withdrawn"}), Stage.FIRST, id="withdrawn-then-valid-again"
        ),
        pytest.param(
            state(5, reminders={1: "sent", 2: "withdrawn"}), Stage.SECOND, id="withdrawn-stage2"
        ),
        pytest.param(
            state(20, reminders={1: "cancelled"}), None, id="cancelled-otherwise-stays-done"
        ),
        pytest.param(
            state(7, reminders={1: "sent"}, renewal_applied_on=TODAY - dt.timedelta(days=3)),
            None,
            id="applied-no-stage2",
        ),
    ],
)
def test_decide(licence: LicenceState, expected: Stage | None) -> None:
    assert decide(licence, TODAY).plan == expected


def test_old_application_belongs_to_an_earlier_cycle() -> None:
    licence = state(7, reminders={1: "sent"}, renewal_applied_on=TODAY - dt.timedelta(days=800))
    assert decide(licence, TODAY).plan == Stage.SECOND


def test_application_cancels_pending_reminder() -> None:
    licence = state(20, reminders={1: "queued"}, renewal_applied_on=TODAY)
    decision = decide(licence, TODAY)
    assert decision.plan is None
    assert decision.cancel == ((1, "renewal application received"),)


def test_pending_first_reminder_is_superseded_by_second() -> None:
    decision = decide(state(7, reminders={1: "planned"}), TODAY)
    assert decision.plan == Stage.SECOND
    assert decision.cancel == ((1, "superseded by the second reminder"),)


def test_due_dates() -> None:
    decision = decide(state(12), TODAY)
    assert decision.due_on == TODAY + dt.timedelta(days=12 - 30)


def test_catalogue_lead_days_are_used() -> None:
    assert decide(state(60, first_lead_days=60), TODAY).plan == Stage.FIRST
    assert decide(state(61, first_lead_days=60), TODAY).plan is None


class TestWorkingDays:
    def test_reminder_due_on_a_holiday_goes_out_the_working_day_before(self) -> None:
        # 2026-10-01..07 is the National Day holiday: a first reminder due on 2026-10-03 goes on 09-30.
        policy = Policy(working_days_only=True)
        licence = LicenceState(1, dt.date(2026, 11, 2), "valid", False, None, 30, 7)
        assert decide(licence, dt.date(2026, 9, 30), policy).plan == Stage.FIRST
        assert decide(licence, dt.date(2026, 9, 29), policy).plan is None
        assert decide(licence, dt.date(2026, 9, 30)).plan is None  # without the rule: not yet

    def test_make_up_working_day_counts_as_working(self) -> None:
        policy = Policy(working_days_only=True, is_workday=lambda d: d.weekday() != 6)
        assert policy.effective(dt.date(2026, 11, 29)) == dt.date(
            2026, 11, 28
        )  # Sunday -> Saturday


def test_stored_times_are_the_citys_whatever_the_machines_zone(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from licence_reminder.config import local_now

    utc = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    monkeypatch.delenv("LR_TIMEZONE", raising=False)
    assert abs(local_now() - (utc + dt.timedelta(hours=8))) < dt.timedelta(seconds=5)
    assert local_now().tzinfo is None and local_now().microsecond == 0
    monkeypatch.setenv("LR_TIMEZONE", "Asia/Urumqi")  # UTC+6
    assert abs(local_now() - (utc + dt.timedelta(hours=6))) < dt.timedelta(seconds=5)


# --------------------------------------------------------------------------- the planner's range
def weekdays(day: dt.date) -> bool:
    return day.weekday() < 5


FRIDAY = dt.date(2026, 11, 27)


@pytest.mark.parametrize(
    ("policy", "today", "expected"),
    [
        pytest.param(Policy(), FRIDAY, FRIDAY, id="calendar-days-today-only"),
        pytest.param(
            Policy(working_days_only=True, is_workday=weekdays),
            FRIDAY,
            FRIDAY + dt.timedelta(days=2),
            id="friday-takes-the-weekend",
        ),
        pytest.param(
            Policy(working_days_only=True, is_workday=weekdays),
            FRIDAY - dt.timedelta(days=1),
            FRIDAY - dt.timedelta(days=1),
            id="thursday-only-thursday",
        ),
        pytest.param(
            Policy(
                working_days_only=True, is_workday=lambda d: not FRIDAY <= d <= dt.date(2026, 12, 6)
            ),
            FRIDAY - dt.timedelta(days=1),
            dt.date(2026, 12, 6),
            id="a-holiday-run-ahead",
        ),
    ],
)
def test_due_through_is_the_last_day_whose_reminders_go_out_today(policy, today, expected) -> None:  # type: ignore[no-untyped-def]
    assert policy.due_through(today) == expected
    # the definition, day by day
    for ahead in range(-3, 35):
        day = today + dt.timedelta(days=ahead)
        assert (policy.effective(day) <= today) == (day <= expected), day


@pytest.mark.parametrize(
    ("licence", "expected"),
    [
        pytest.param(state(40), TODAY + dt.timedelta(days=10), id="first-day-ahead"),
        pytest.param(state(30), TODAY + dt.timedelta(days=23), id="first-due-second-ahead"),
        pytest.param(state(7), NEVER, id="both-due"),
        pytest.param(
            state(
                40, first_on=TODAY + dt.timedelta(days=2), second_on=TODAY + dt.timedelta(days=5)
            ),
            TODAY + dt.timedelta(days=2),
            id="the-ledger-s-dates",
        ),
    ],
)
def test_next_check_is_the_next_reminder_day_still_ahead(licence, expected) -> None:  # type: ignore[no-untyped-def]
    assert next_check(licence, TODAY) == expected
