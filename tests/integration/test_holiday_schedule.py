"""A year's holiday schedule entered after the ledger worked its reminder dates out without it:
``cli ledger refresh-dates`` moves them (MariaDB and SQLite)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
import yaml
from licence_reminder import cli, holidays, policy
from licence_reminder.leads import working_days_before
from licence_reminder.registry import catalogue_for
from licence_reminder.sync import plan as planning

from tests.support.ledger_world import DEPT, TODAY, licence, put, q, run_sync

EXPIRY = dt.date(2027, 2, 25)
# made up for the test, not the State Council's notice for 2027
OFF = [dt.date(2027, 1, 1)] + [dt.date(2027, 2, d) for d in range(6, 13)]
WORKED = dt.date(2027, 2, 20)  # a Saturday


def _weekdays(day: dt.date) -> bool:
    return day.weekday() < 5


def _scheduled(day: dt.date) -> bool:
    return day == WORKED or (day not in OFF and day.weekday() < 5)


def _first_on(is_workday) -> dt.date:  # type: ignore[no-untyped-def]
    deadline = working_days_before(EXPIRY, 30, is_workday)
    return working_days_before(deadline, 10, is_workday)


@pytest.fixture
def settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    catalogues = tmp_path / "catalogues"
    catalogues.mkdir()
    entry = {
        "licence_name": "食品经营许可证",
        "approval_item": "食品经营许可",
        "office": "审批科",
        "statutory_validity": "5年",
        "renewal_window": "有效期届满30个工作日前",
        "online_url": "https://zwfw.example.gov.cn",
        "service_phone": "0372-1234567",
        "materials": ["延续申请书"],
        "lapse_consequences": "无证经营将被依法查处。",
        "renewal_deadline_working_days": 30,
        "first_lead": {"working_days": 10, "before": "deadline"},
    }
    (catalogues / "testdept.yaml").write_text(
        yaml.safe_dump({"department": "testdept", "entries": [entry]}, allow_unicode=True),
        encoding="utf-8",
    )
    monkeypatch.setenv("LR_CATALOGUE_DIR", str(catalogues))
    schedule = tmp_path / "holidays.yaml"
    monkeypatch.setenv("LR_HOLIDAYS_FILE", str(schedule))
    caches = (holidays.schedule, holidays.warn_unknown_year, policy.chinese_workday)
    for cached in caches:
        cached.cache_clear()
    yield schedule
    for cached in caches:
        cached.cache_clear()


def test_a_year_entered_later_moves_the_ledgers_reminder_dates(
    engines, settings: Path, capsys: pytest.CaptureFixture[str]
) -> None:  # type: ignore[no-untyped-def]
    ledger, source = engines
    put(source, licence("L0001", (EXPIRY - TODAY).days))
    run_sync(ledger, source)
    # the working-day catalogue registered, as the next sync's plan task does: its dates worked
    # out there, 2027 counted Monday to Friday
    working = catalogue_for("testdept", settings.parent / "catalogues")
    planning.register_department(ledger, DEPT, working)
    url = ledger.url.render_as_string(hide_password=False)
    refresh = ["ledger", "refresh-dates", "--dept", "testdept", "--url", url]

    def first_on() -> dt.date:
        (row,) = q(ledger, "SELECT first_reminder_on, next_check_on FROM ledger")
        assert row[1] is None  # the planner looks at the licence again
        return dt.date.fromisoformat(str(row[0])[:10])

    assert first_on() == _first_on(_weekdays)
    assert cli.main(refresh) == 0
    assert "testdept: 0 licence(s)" in capsys.readouterr().out

    settings.write_text(
        yaml.safe_dump(
            {"years": {2027: {"holidays": [d.isoformat() for d in OFF], "workdays": [str(WORKED)]}}}
        ),
        encoding="utf-8",
    )
    holidays.schedule.cache_clear()
    policy.chinese_workday.cache_clear()
    assert cli.main(refresh) == 0
    assert "testdept: 1 licence(s) given other reminder dates" in capsys.readouterr().out
    assert first_on() == _first_on(_scheduled) != _first_on(_weekdays)

    assert cli.main(refresh) == 0  # nothing left to move
    assert "testdept: 0 licence(s)" in capsys.readouterr().out
