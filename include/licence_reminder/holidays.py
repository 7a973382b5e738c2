"""The State Council's holiday schedule for the years the ``chinese_calendar`` package does not
know yet.

Working-day leads ("有效期届满30个工作日前") count the State Council's schedule: weekends and public
holidays off, make-up working days (调休上班) on. The package carries each year's schedule only
from the release after the notice (国务院办公厅关于××年部分节假日安排的通知, usually published in
November), and the ledger's reminder dates reach months ahead: from then until an updated package
is deployed, the platform team enters the notice in ``include/registry/holidays.yaml``
(``LR_HOLIDAYS_FILE``). A year listed there replaces the package's for that year.

A year neither knows is counted Monday to Friday, and each process that counts in it says so once
(a warning naming the file). After a year is added, ``cli ledger refresh-dates`` works the
ledger's reminder dates out again (docs/deploy.md, "The holiday schedule").
"""

from __future__ import annotations

import datetime as dt
import functools
import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from licence_reminder.config import INCLUDE_DIR
from licence_reminder.errors import PermanentError

log = logging.getLogger(__name__)

_YEAR_FIELDS = {"holidays", "workdays", "source"}


class HolidayScheduleError(PermanentError):
    """The schedule file cannot be read as a schedule: the message names the file and field."""


@dataclass(frozen=True)
class YearSchedule:
    #: public holidays on weekdays and weekends alike (放假)
    holidays: frozenset[dt.date]
    #: weekend days worked (调休上班)
    workdays: frozenset[dt.date]

    def is_workday(self, day: dt.date) -> bool:
        if day in self.workdays:
            return True
        return day not in self.holidays and day.weekday() < 5


def schedule_file() -> Path:
    return Path(os.environ.get("LR_HOLIDAYS_FILE") or INCLUDE_DIR / "registry" / "holidays.yaml")


@functools.cache  # read once per process: every working-day lead asks
def schedule() -> dict[int, YearSchedule]:
    """The years the schedule file gives (none when there is no file)."""
    import yaml

    path = schedule_file()
    if not path.is_file():
        return {}
    try:
        # every scalar as text: a wrong date is then worded here with its field, and YAML 1.1's
        # booleans (off, no) and timestamps cannot turn a typo into something else
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=yaml.BaseLoader)
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise HolidayScheduleError(f"{path}: cannot be read as YAML: {exc}") from exc
    return parse(data, where=str(path))


def parse(data: Any, *, where: str) -> dict[int, YearSchedule]:
    """The years of a schedule file's content (``years:`` → year → holidays, workdays, source),
    read with every scalar as text."""
    if data is None or data == "":
        return {}
    if not isinstance(data, dict) or set(data) - {"years"}:
        raise HolidayScheduleError(f"{where}: must hold one field, 'years' (a year per key)")
    years = data.get("years") or {}
    if not isinstance(years, dict):
        raise HolidayScheduleError(f"{where}: field 'years' must map each year to its schedule")
    return {
        _year(key, where): _schedule(_year(key, where), value, where)
        for key, value in years.items()
    }


def _year(key: Any, where: str) -> int:
    text = str(key)
    if not (text.isascii() and text.isdigit() and 2000 <= int(text) <= 2100):
        raise HolidayScheduleError(f"{where}: years.{text}: a year must be a number, e.g. 2027")
    return int(text)


def _schedule(year: int, value: Any, where: str) -> YearSchedule:
    field = f"{where}: years.{year}"
    if not isinstance(value, dict):
        raise HolidayScheduleError(f"{field}: must give 'holidays' and 'workdays' lists")
    unknown = set(value) - _YEAR_FIELDS
    if unknown:
        raise HolidayScheduleError(
            f"{field}: unknown field(s) {sorted(unknown)}; expected holidays, workdays, source"
        )
    holidays = _days(value.get("holidays"), year, f"{field}.holidays")
    workdays = _days(value.get("workdays"), year, f"{field}.workdays")
    for day in sorted(workdays):
        if day.weekday() < 5:
            raise HolidayScheduleError(
                f"{field}.workdays: {day} is a {day:%A}: a make-up working day (调休上班) is a "
                "Saturday or Sunday"
            )
    both = sorted(holidays & workdays)
    if both:
        raise HolidayScheduleError(f"{field}: {both[0]} is both a holiday and a working day")
    if not holidays:
        raise HolidayScheduleError(
            f"{field}.holidays: empty; a year's notice always gives holidays (元旦, 春节, …)"
        )
    return YearSchedule(frozenset(holidays), frozenset(workdays))


def _days(items: Any, year: int, field: str) -> set[dt.date]:
    """Dates and ranges (``2027-02-06..2027-02-13``, both ends included), all in ``year``."""
    if items is None or items == "":
        return set()
    if not isinstance(items, list):
        raise HolidayScheduleError(f"{field}: must be a list of dates (YYYY-MM-DD) or ranges")
    days: set[dt.date] = set()
    for item in items:
        first, last = _range(item, field)
        if first.year != year or last.year != year:
            raise HolidayScheduleError(f"{field}: {item} is not in {year}")
        while first <= last:
            days.add(first)
            first += dt.timedelta(days=1)
    return days


def _range(item: Any, field: str) -> tuple[dt.date, dt.date]:
    if isinstance(item, dt.date) and not isinstance(item, dt.datetime):
        return item, item
    text = str(item)
    start, _, end = text.partition("..")
    try:
        first = dt.date.fromisoformat(start.strip())
        last = dt.date.fromisoformat(end.strip()) if end else first
    except ValueError:
        raise HolidayScheduleError(
            f"{field}: {text!r} is not a date (YYYY-MM-DD) or a range (YYYY-MM-DD..YYYY-MM-DD)"
        ) from None
    if last < first:
        raise HolidayScheduleError(f"{field}: {text!r} ends before it begins")
    return first, last


def known(year: int) -> bool:
    """Whether the schedule file or the ``chinese_calendar`` package gives ``year``."""
    if year in schedule():
        return True
    import chinese_calendar

    try:
        chinese_calendar.is_workday(dt.date(year, 1, 1))
    except NotImplementedError:
        return False
    return True


@functools.cache  # once per year and process: every licence's lead would say it again
def warn_unknown_year(year: int) -> None:
    log.warning(
        "no holiday schedule for %d: working-day leads count Monday to Friday there; enter the "
        "State Council's notice for %d in %s, then run `cli ledger refresh-dates` "
        "(docs/deploy.md, 'The holiday schedule')",
        year,
        year,
        schedule_file(),
    )
