"""Who must be reminded today: the reminder policy as a pure function.

- Stage 1 from the first reminder date on, once per licence cycle.
- Stage 2 from the second reminder date (7 days before expiry by default) for holders
  who have not applied to renew: those reminded once, and — caught up late — those never reminded,
  who get this one reminder with the stage-2 content (it states the consequences of lapsing).
- Nothing after expiry, nothing for revoked, cancelled or vanished licences, nothing once the
  holder has applied to renew (a pending reminder is cancelled instead).
- The reminder dates are the ledger's (attachment 2's 提醒日期, which the sync works out from the
  catalogue's rules: days or working days before the expiry or the renewal deadline,
  ``leads.py``); a licence without them falls back to expiry − the catalogue's lead days.
- Optionally, a reminder date that falls on a day off (Chinese public holidays and make-up
  working days) moves to the working day before it.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import IntEnum

#: A renewal application older than this before the expiry belongs to an earlier cycle.
APPLICATION_WINDOW = dt.timedelta(days=366)
SENT_STATUSES = frozenset({"sent", "delivered"})
PENDING_STATUSES = frozenset({"planned", "queued"})
#: A reminder cancelled for one of these reasons (reminders_cancel_stale.sql) was withdrawn, not
#: done: when the licence is valid again (reinstated, or back in the source) it is planned again.
WITHDRAWN_REASONS = frozenset(
    {"licence revoked", "licence cancelled", "licence no longer in the source"}
)
#: what plan() reports for such a reminder
WITHDRAWN = "withdrawn"


class Stage(IntEnum):
    FIRST = 1
    SECOND = 2


@dataclass(frozen=True)
class LicenceState:
    ledger_id: int
    expiry_date: dt.date
    status: str
    vanished: bool
    renewal_applied_on: dt.date | None
    first_lead_days: int
    second_lead_days: int
    #: stage -> status of this cycle's existing reminder (same expiry date)
    reminders: dict[int, str] = field(default_factory=dict)
    #: the ledger's reminder dates (first_reminder_on, second_reminder_on), when it has them
    first_on: dt.date | None = None
    second_on: dt.date | None = None


@dataclass(frozen=True)
class Decision:
    plan: Stage | None = None
    due_on: dt.date | None = None
    #: (stage, reason) of pending reminders to cancel
    cancel: tuple[tuple[int, str], ...] = ()


@functools.cache  # working-day leads ask about the same few thousand days for every licence
def chinese_workday(day: dt.date) -> bool:
    """Working day under the State Council's holiday schedule (make-up days included): the
    schedule file's year if it gives one, else the ``chinese_calendar`` package's, else Monday to
    Friday, with a warning (:mod:`~licence_reminder.holidays`)."""
    from licence_reminder import holidays

    year = holidays.schedule().get(day.year)
    if year is not None:
        return year.is_workday(day)
    import chinese_calendar

    try:
        return bool(chinese_calendar.is_workday(day))
    except NotImplementedError:
        holidays.warn_unknown_year(day.year)
        return day.weekday() < 5


#: the furthest :meth:`Policy.effective` moves a day back (the dispatch reads no licence beyond it)
MAX_SHIFT_DAYS = 30
#: ``ledger.next_check_on`` of a cycle with nothing left to decide until a sync changes it
NEVER = dt.date(9999, 12, 31)


@dataclass(frozen=True)
class Policy:
    working_days_only: bool = False
    is_workday: Callable[[dt.date], bool] = chinese_workday

    def effective(self, day: dt.date) -> dt.date:
        """The day a reminder due on ``day`` goes out: the working day on or before it."""
        if not self.working_days_only:
            return day
        for _ in range(MAX_SHIFT_DAYS):  # the longest Chinese holiday run is 8–9 days
            if self.is_workday(day):
                return day
            day -= dt.timedelta(days=1)
        return day

    def due_through(self, today: dt.date) -> dt.date:
        """The last reminder day that goes out by ``today``: ``effective(day) <= today`` exactly
        when ``day <= due_through(today)`` (``effective`` never moves a later day before an
        earlier one), so the planner can select the due cycles by a date range."""
        last = today
        for ahead in range(1, MAX_SHIFT_DAYS + 1):
            day = today + dt.timedelta(days=ahead)
            if self.effective(day) > today:
                break
            last = day
        return last


def reminder_days(state: LicenceState) -> tuple[dt.date, dt.date]:
    """The cycle's first and second reminder days: the ledger's, else expiry − lead days."""
    return (
        state.first_on or state.expiry_date - dt.timedelta(days=state.first_lead_days),
        state.second_on or state.expiry_date - dt.timedelta(days=state.second_lead_days),
    )


def next_check(state: LicenceState, due_through: dt.date) -> dt.date:
    """When the planner, having decided ``state`` with reminder days up to ``due_through`` due,
    must look at the cycle again if nothing about it changes: :func:`decide` changes its answer
    only when another reminder day falls due (a sync that changes the cycle sets
    ``ledger.next_check_on`` back to NULL)."""
    ahead = [day for day in reminder_days(state) if day > due_through]
    return min(ahead) if ahead else NEVER


def decide(state: LicenceState, today: dt.date, policy: Policy = Policy()) -> Decision:
    if state.status != "valid" or state.vanished or today > state.expiry_date:
        return Decision()
    held = {stage: status for stage, status in state.reminders.items() if status != WITHDRAWN}
    pending = tuple(
        (stage, "renewal application received")
        for stage, status in sorted(held.items())
        if status in PENDING_STATUSES
    )
    applied = state.renewal_applied_on
    if applied is not None and applied > state.expiry_date - APPLICATION_WINDOW:
        return Decision(cancel=pending)

    first_on, second_on = reminder_days(state)
    if today < policy.effective(first_on):
        return Decision()
    if today < policy.effective(second_on):
        if Stage.FIRST in held:
            return Decision()
        return Decision(plan=Stage.FIRST, due_on=first_on)
    if Stage.SECOND in held:
        return Decision()
    superseded = tuple(
        (stage, "superseded by the second reminder")
        for stage, status in held.items()
        if stage == Stage.FIRST and status in PENDING_STATUSES
    )
    return Decision(plan=Stage.SECOND, due_on=second_on, cancel=superseded)
