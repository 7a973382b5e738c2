"""Reminder dates from a catalogue entry's rules: calendar or Chinese working days, counted from
the expiry date or from the last day to apply for renewal."""

from __future__ import annotations

import datetime as dt
import io
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from licence_reminder.catalogue_check import check, documented_gateways
from licence_reminder.leads import EPOCH, EntryDates, LeadTable, working_days_before
from licence_reminder.registry import Catalogue, CatalogueEntry, RegistryError, load_catalogue

BASE = {
    "licence_name": "食品经营许可证",
    "approval_item": "食品经营许可",
    "office": "审批科",
    "statutory_validity": "5年",
    "renewal_window": "有效期届满30个工作日前提出延续申请",
    "online_url": "https://zwfw.example.gov.cn/ay",
    "service_phone": "0372-1234567",
    "materials": ["延续申请书"],
    "lapse_consequences": "无证经营将被依法查处。",
}


def entry(**rules: object) -> CatalogueEntry:
    return CatalogueEntry.model_validate({**BASE, **rules})


def test_working_days_skip_the_national_day_holiday_and_count_its_make_up_day() -> None:
    # 2026: 1-7 October off; Saturday 10 October a working day
    assert working_days_before(dt.date(2026, 10, 12), 1) == dt.date(2026, 10, 10)
    assert working_days_before(dt.date(2026, 10, 12), 4) == dt.date(2026, 9, 30)
    assert working_days_before(dt.date(2026, 10, 12), 0) == dt.date(2026, 10, 12)


def test_deadline_and_first_reminder_relative_to_it() -> None:
    food = entry(
        renewal_deadline_working_days=30, first_lead={"working_days": 10, "before": "deadline"}
    )
    dates = EntryDates(food)
    expiry = dt.date(2026, 11, 20)
    deadline = working_days_before(expiry, 30)
    assert dates.deadline(expiry) == deadline
    assert dates.first_on(expiry) == working_days_before(deadline, 10)
    assert dates.second_on(expiry) == expiry - dt.timedelta(days=7)
    assert food.first_lead_days == 56  # about as many calendar days: (30 + 10) working days


def test_calendar_rules_are_what_they_were() -> None:
    plain = entry(first_lead_days=60, renewal_deadline_days=30)
    dates, expiry = EntryDates(plain), dt.date(2027, 3, 1)
    assert (dates.first_on(expiry), dates.deadline(expiry)) == (
        dt.date(2026, 12, 31),
        dt.date(2027, 1, 30),
    )
    assert plain.calendar_leads and plain.lead_rule() is None


def test_the_sync_works_the_dates_out_per_row() -> None:
    food = entry(
        renewal_deadline_working_days=30, first_lead={"working_days": 10, "before": "deadline"}
    )
    drug = entry(licence_name="药品经营许可证", first_lead_days=60)
    table = LeadTable(Catalogue(department="scjgj", entries=[food, drug]))
    expiry = [
        dt.date(2026, 11, 20),
        dt.date(2026, 11, 20),
        dt.date(2027, 2, 1),
        dt.date(2027, 2, 1),
    ]
    names = pd.Series(["食品经营许可证", "药品经营许可证", "食品经营许可证", "不存在"])
    days = np.array([(d - EPOCH).days for d in expiry])
    before = table.days_before_expiry(names, days, stage=1)
    food_dates = EntryDates(food)
    assert before[0] == (expiry[0] - food_dates.first_on(expiry[0])).days
    assert before[1] == 60
    assert before[2] == (expiry[2] - food_dates.first_on(expiry[2])).days
    assert np.isnan(before[3])


@pytest.mark.parametrize(
    ("rules", "message"),
    [
        ({"first_lead": {"days": 5, "working_days": 5}}, "exactly one of days or working_days"),
        (
            {"first_lead": {"days": 10}, "first_lead_days": 30},
            "first_lead_days or first_lead, not both",
        ),
        ({"renewal_deadline_days": 10, "renewal_deadline_working_days": 10}, "not both"),
        (
            {"first_lead": {"days": 100, "before": "deadline"}, "renewal_deadline_days": 300},
            "more than the 365 allowed",
        ),
    ],
)
def test_bad_lead_rules_are_refused_with_the_field(rules: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        entry(**rules)


def test_a_validated_entry_reads_back_from_its_own_dump() -> None:
    food = entry(
        renewal_deadline_working_days=30, first_lead={"working_days": 10, "before": "deadline"}
    )
    assert CatalogueEntry.model_validate(food.model_dump()) == food


CATALOGUE = """department: scjgj
entries:
  - licence_name: 食品经营许可证
    code: spjy
    approval_item: 食品经营许可
    office: 审批科
    statutory_validity: 5年
    renewal_window: 有效期届满30个工作日前提出延续申请
    renewal_deadline_working_days: 30
{leads}    online_url: https://zwfw.example.gov.cn/ay/spjy
    service_phone: 0372-2510100
    materials: [延续申请书]
    lapse_consequences: 许可证过期后继续经营属无证经营。
    sms_consequences: 逾期经营属无证经营。
"""


def run_check(tmp_path: Path, leads: str, **kw: object) -> tuple[int, str]:
    path = tmp_path / "scjgj.yaml"
    path.write_text(CATALOGUE.format(leads=leads), encoding="utf-8")
    out = io.StringIO()
    code = check(
        [path],
        gateways=kw.pop("gateways", documented_gateways()),  # type: ignore[arg-type]
        catalogue_url="https://zwfw.example.gov.cn/tx",
        today=dt.date(2026, 12, 7),
        out=out,
    )
    return code, out.getvalue()


def test_check_warns_naming_the_entry_when_the_first_reminder_comes_after_the_deadline(
    tmp_path: Path,
) -> None:
    code, out = run_check(
        tmp_path, "    first_lead_days: 30\n"
    )  # 30 calendar days: after a 30-working-day deadline
    assert code == 0
    assert (
        "warning:" in out
        and "entry 食品经营许可证 (spjy): the first reminder falls after the last day to apply"
        in out
    )
    code, out = run_check(tmp_path, "    first_lead: {working_days: 10, before: deadline}\n")
    assert code == 0 and "falls after" not in out


def test_check_warns_of_a_year_without_holiday_schedule_only_for_working_day_leads(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from licence_reminder import holidays, policy

    schedule = tmp_path / "holidays.yaml"
    monkeypatch.setenv("LR_HOLIDAYS_FILE", str(schedule))
    caches = (holidays.schedule, holidays.warn_unknown_year, policy.chinese_workday)
    for cached in caches:
        cached.cache_clear()
    working = "    first_lead: {working_days: 10, before: deadline}\n"
    _code, out = run_check(tmp_path, working)
    assert (
        "warning: no holiday schedule for 2027: the working-day leads of 1 entry count Monday "
        f"to Friday there; enter the State Council's notice for 2027 in {schedule}" in out
    )
    assert "for 2026" not in out  # the package knows it
    # made up for the test, not the State Council's notice
    schedule.write_text("years:\n  2027:\n    holidays: [2027-01-01]\n", encoding="utf-8")
    for cached in caches:
        cached.cache_clear()
    _code, out = run_check(tmp_path, working)
    assert "no holiday schedule" not in out
    schedule.unlink()
    for cached in caches:
        cached.cache_clear()
    (tmp_path / "calendar").mkdir()
    calendar = tmp_path / "calendar" / "scjgj.yaml"
    calendar.write_text(
        CATALOGUE.format(leads="    first_lead_days: 20\n").replace(
            "    renewal_deadline_working_days: 30\n", ""
        ),
        encoding="utf-8",
    )
    out = io.StringIO()
    check(
        [calendar],
        gateways=documented_gateways(),
        catalogue_url="https://zwfw.example.gov.cn/tx",
        today=dt.date(2026, 12, 7),
        out=out,
    )
    assert "ok  " in out.getvalue() and "no holiday schedule" not in out.getvalue()
    for cached in caches:
        cached.cache_clear()


def test_loading_the_shipped_catalogues_gives_no_lead_warning() -> None:
    folder = Path(__file__).resolve().parents[2] / "include" / "registry" / "catalogues"
    out = io.StringIO()
    # the demo's page address, and every provider's documented caps: no entry over two SMS either
    assert (
        check(
            sorted(folder.glob("*.yaml")),
            gateways=documented_gateways(),
            catalogue_url="https://zwfw.example.gov.cn/tx",
            today=dt.date(2026, 12, 7),
            out=out,
        )
        == 0
    )
    lines = [
        line
        for line in out.getvalue().splitlines()
        if "warning" in line and "no holiday schedule for 2027" not in line
    ]
    assert not lines, out.getvalue()
    for path in folder.glob("*.yaml"):
        assert load_catalogue(path)  # and each still loads on its own


def test_check_fails_naming_entry_variable_and_cap(tmp_path: Path) -> None:
    from licence_reminder.catalogue_check import Gateway

    tight = Gateway("generic (connection sms_gov)", "generic", {"licence_no": 4, "expiry": 10})
    code, out = run_check(
        tmp_path,
        "    first_lead: {working_days: 10, before: deadline}\n    licence_no_digits: 6\n",
        gateways=[tight],
    )
    assert code == 1
    assert (
        "entry 食品经营许可证 (spjy), stage 1: variable licence_no can be 6 characters, over generic "
        "(connection sms_gov)'s cap of 4" in out
    )
    assert (
        "variable expiry can be 11 characters, over generic (connection sms_gov)'s cap of 10" in out
    )


def test_check_fails_an_unreadable_catalogue(tmp_path: Path) -> None:
    path = tmp_path / "scjgj.yaml"
    path.write_text("department: scjgj\nentries: []\n", encoding="utf-8")
    out = io.StringIO()
    assert (
        check(
            [path],
            gateways=documented_gateways(),
            catalogue_url=None,
            today=dt.date(2026, 12, 7),
            out=out,
        )
        == 1
    )
    assert "FAIL" in out.getvalue() and "LR_CATALOGUE_URL is not set" in out.getvalue()
    with pytest.raises(RegistryError):
        load_catalogue(path)
