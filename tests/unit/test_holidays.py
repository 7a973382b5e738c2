"""The holiday schedule file: what it accepts, what it refuses (naming the field), and how the
working-day count uses it before the chinese_calendar package."""

from __future__ import annotations

import datetime as dt
import logging
from pathlib import Path

import pytest
from licence_reminder import holidays, policy
from licence_reminder.holidays import HolidayScheduleError

# a made-up schedule for the tests, not the State Council's notice
SCHEDULE = """
years:
  2031:
    source: test
    holidays:
      - 2031-01-01
      - 2031-01-22..2031-01-28
    workdays:
      - 2031-01-19
"""


@pytest.fixture
def schedule_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    path = tmp_path / "holidays.yaml"
    monkeypatch.setenv("LR_HOLIDAYS_FILE", str(path))
    for cached in (holidays.schedule, holidays.warn_unknown_year, policy.chinese_workday):
        cached.cache_clear()
    yield path
    for cached in (holidays.schedule, holidays.warn_unknown_year, policy.chinese_workday):
        cached.cache_clear()


def test_a_year_in_the_file_replaces_the_weekday_count(schedule_file: Path) -> None:
    schedule_file.write_text(SCHEDULE, encoding="utf-8")
    year = holidays.schedule()[2031]
    assert len(year.holidays) == 8 and year.workdays == {dt.date(2031, 1, 19)}
    workday = policy.chinese_workday
    assert not workday(dt.date(2031, 1, 1))  # a Wednesday off
    assert not workday(dt.date(2031, 1, 24))  # inside the range
    assert workday(dt.date(2031, 1, 19))  # a Sunday worked
    assert not workday(dt.date(2031, 1, 18))  # a Saturday as usual
    assert workday(dt.date(2031, 1, 29))  # a Wednesday as usual


def test_a_year_the_package_knows_still_comes_from_it(schedule_file: Path) -> None:
    schedule_file.write_text(SCHEDULE, encoding="utf-8")
    assert not policy.chinese_workday(dt.date(2026, 10, 1))  # 国庆节, a Thursday
    assert policy.chinese_workday(dt.date(2026, 9, 28))  # a Monday


def test_a_year_nobody_knows_counts_weekdays_and_says_so_once(
    schedule_file: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="licence_reminder.holidays"):
        assert policy.chinese_workday(dt.date(2032, 1, 1))  # a Thursday
        assert not policy.chinese_workday(dt.date(2032, 1, 3))  # a Saturday
        assert policy.chinese_workday(dt.date(2032, 2, 2))
    said = [r.getMessage() for r in caplog.records]
    assert len(said) == 1 and "no holiday schedule for 2032" in said[0]
    assert str(schedule_file) in said[0] and "refresh-dates" in said[0]


def test_no_file_and_an_empty_one_give_no_years(schedule_file: Path) -> None:
    assert holidays.schedule() == {}
    schedule_file.write_text("years: {}\n", encoding="utf-8")
    holidays.schedule.cache_clear()
    assert holidays.schedule() == {}


def test_the_shipped_file_reads() -> None:
    from licence_reminder.config import INCLUDE_DIR

    path = INCLUDE_DIR / "registry" / "holidays.yaml"
    import yaml

    holidays.parse(yaml.safe_load(path.read_text(encoding="utf-8")), where=str(path))


@pytest.mark.parametrize(
    "text, message",
    [
        ("2031: {}", "must hold one field, 'years'"),
        ("years: [2031]", "field 'years' must map"),
        ("years: {twenty: {holidays: [2031-01-01]}}", "years.twenty: a year must be a number"),
        (
            "years: {2031: {holidays: [2031-01-01], off: []}}",
            "years.2031: unknown field(s) ['off']",
        ),
        (
            "years: {2031: {holidays: [2031-13-01]}}",
            "years.2031.holidays: '2031-13-01' is not a date",
        ),
        (
            "years: {2031: {holidays: [2030-12-31]}}",
            "years.2031.holidays: 2030-12-31 is not in 2031",
        ),
        (
            "years: {2031: {holidays: [2031-02-05..2031-02-01]}}",
            "years.2031.holidays: '2031-02-05..2031-02-01' ends before it begins",
        ),
        (
            "years: {2031: {holidays: [2031-01-01], workdays: [2031-01-20]}}",
            "years.2031.workdays: 2031-01-20 is a Monday",
        ),
        (
            "years: {2031: {holidays: [2031-01-18], workdays: [2031-01-18]}}",
            "2031-01-18 is both a holiday and a working day",
        ),
        ("years: {2031: {workdays: [2031-01-19]}}", "years.2031.holidays: empty"),
        ("years: {2031: [2031-01-01]}", "years.2031: must give 'holidays' and 'workdays'"),
        ("years: {2031: {holidays: 2031-01-01}}", "years.2031.holidays: must be a list"),
        ("years: {2031: {holidays: [2031-01-01]", "cannot be read as YAML"),
    ],
)
def test_a_wrong_file_names_its_field(schedule_file: Path, text: str, message: str) -> None:
    schedule_file.write_text(text, encoding="utf-8")
    with pytest.raises(HolidayScheduleError) as err:
        holidays.schedule()
    assert str(schedule_file) in str(err.value)
    assert message in str(err.value)
