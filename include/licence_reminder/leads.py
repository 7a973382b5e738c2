"""The dates a catalogue entry's rules give a licence: its renewal deadline and reminder dates.

A lead counts calendar days or Chinese working days (the State Council's schedule: weekends and
public holidays off, make-up working days on) back from the expiry date or from the renewal
deadline. "N working days before D" is the N-th working day counted back from the day before D;
the renewal deadline is the last day on which the application is still in time (the message
says "请<deadline>前申请"). The ledger keeps each licence's reminder dates (attachment 2's
提醒日期): the sync writes them with these rules and the dispatch reminds on them.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from licence_reminder.policy import chinese_workday
from licence_reminder.registry import Catalogue, CatalogueEntry, Lead

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd
    from sqlalchemy import Connection

#: days since 1970-01-01, the unit the sync's arrays carry dates in
EPOCH = dt.date(1970, 1, 1)


def working_days_before(
    day: dt.date, n: int, is_workday: Callable[[dt.date], bool] = chinese_workday
) -> dt.date:
    """The ``n``-th working day counted back from the day before ``day`` (``n`` = 0: ``day``)."""
    while n > 0:
        day -= dt.timedelta(days=1)
        if is_workday(day):
            n -= 1
    return day


class EntryDates:
    """One catalogue entry's dates for any expiry date, remembered per expiry date."""

    def __init__(
        self, entry: CatalogueEntry, is_workday: Callable[[dt.date], bool] = chinese_workday
    ) -> None:
        self.entry = entry
        self.is_workday = is_workday
        self.deadline = functools.cache(self._deadline)
        self.first_on = functools.cache(lambda expiry: self._date(entry.first_rule, expiry))
        self.second_on = functools.cache(lambda expiry: self._date(entry.second_rule, expiry))

    def _back(self, day: dt.date, lead: Lead) -> dt.date:
        if lead.working_days is not None:
            return working_days_before(day, lead.working_days, self.is_workday)
        return day - dt.timedelta(days=lead.days or 0)

    def _deadline(self, expiry: dt.date) -> dt.date:
        return self._back(expiry, self.entry.deadline_rule)

    def _date(self, lead: Lead, expiry: dt.date) -> dt.date:
        return self._back(self.deadline(expiry) if lead.before == "deadline" else expiry, lead)

    def reminder_on(self, expiry: dt.date, stage: int) -> dt.date:
        return self.first_on(expiry) if stage == 1 else self.second_on(expiry)


class LeadTable:
    """A department's entries' reminder dates, for the sync's arrays of rows."""

    def __init__(self, catalogue: Catalogue) -> None:
        self.dates = {e.licence_name: EntryDates(e) for e in catalogue.entries}

    def days_before_expiry(self, names: pd.Series, expiry: np.ndarray, stage: int) -> np.ndarray:
        """Per row (licence name, expiry as days since 1970): how many days before its expiry its
        ``stage`` reminder falls (float, NaN for a name not in the catalogue)."""
        import numpy as np

        out = np.full(len(names), np.nan)
        names_arr = names.to_numpy(dtype=object)
        for name, dates in self.dates.items():
            rows = names_arr == name
            if not rows.any():
                continue
            rule = dates.entry.first_rule if stage == 1 else dates.entry.second_rule
            if dates.entry.calendar_leads:
                out[rows] = rule.days
                continue
            # few distinct expiry dates: each is worked out once
            days, inverse = np.unique(expiry[rows], return_inverse=True)
            lead = np.array(
                [
                    d - (dates.reminder_on(EPOCH + dt.timedelta(days=int(d)), stage) - EPOCH).days
                    for d in days
                ],
                dtype="float64",
            )
            out[rows] = lead[inverse]
        return out


def refresh_ledger_dates(conn: Connection, dept_code: str, catalogue: Catalogue) -> int:
    """A department's reminder dates after its catalogue's leads or the holiday schedule changed:
    calendar-day leads in one statement, the others per (licence name, expiry date) the ledger
    holds; the number of rows given other dates (rows already right are not written)."""
    from licence_reminder.db import sql

    # a driver that cannot count says -1
    changed = max(
        conn.execute(sql("refresh_reminder_dates", conn), {"dept_code": dept_code}).rowcount, 0
    )
    for entry in catalogue.entries:
        if entry.calendar_leads:
            continue
        dates = EntryDates(entry)
        expiries = [
            _date(r[0])
            for r in conn.execute(
                sql("ledger_expiry_dates", conn),
                {"dept_code": dept_code, "licence_name": entry.licence_name},
            )
        ]
        rows = [
            {
                "dept_code": dept_code,
                "licence_name": entry.licence_name,
                "expiry_date": e,
                "first_on": dates.first_on(e),
                "second_on": dates.second_on(e),
            }
            for e in expiries
            if e is not None
        ]
        if rows:
            changed += max(conn.execute(sql("ledger_set_reminder_dates", conn), rows).rowcount, 0)
    return changed


def _date(v: Any) -> dt.date | None:
    if v is None or isinstance(v, dt.date) and not isinstance(v, dt.datetime):
        return v
    return dt.date.fromisoformat(str(v)[:10])
