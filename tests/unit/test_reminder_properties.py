"""Properties over generated catalogues, dates and holders: a reminder is true on the day it is sent.

- No text states a date before the sending day (the expiry of a licence still valid is the only
  date a reminder states besides the deadline, and an expired licence is never reminded).
- "N天后" is counted from the sending day.
- Every licence of a grouped message appears, with its own expiry date.
"""

from __future__ import annotations

import datetime as dt
import re
from types import SimpleNamespace

from hypothesis import assume, given, settings
from hypothesis import strategies as st
from licence_reminder.dispatch import group_reminders
from licence_reminder.leads import EntryDates, working_days_before
from licence_reminder.policy import chinese_workday
from licence_reminder.registry import CatalogueEntry
from licence_reminder.render import Licence, chinese_date, licence_tail, message_params
from licence_reminder.sms_templates import build
from pydantic import ValidationError

DATE = re.compile(r"(\d{4})年(\d{1,2})月(\d{1,2})日")
# the calendar's holiday data and the years after it (weekdays only) alike
EXPIRIES = st.dates(dt.date(2024, 3, 1), dt.date(2028, 12, 31))
NAME_CHARS = (
    "安阳市林州殷都文峰北关龙安永盛鑫源华联食品餐饮物流有限公司张王李刘陈杨赵黄周吴伟芳娜静"
)
NAMES = st.one_of(st.none(), st.text(NAME_CHARS, min_size=1, max_size=20))
LICENCE_NOS = st.text("ABCDEFGHJKLMNPQRSTUVWXYZ0123456789", min_size=4, max_size=20)


@st.composite
def leads(draw: st.DrawFn) -> dict:
    rule: dict = {}
    if draw(st.booleans()):
        rule["renewal_deadline_working_days"] = draw(st.integers(1, 45))
    else:
        rule["renewal_deadline_days"] = draw(st.integers(0, 90))
    if draw(st.booleans()):
        count = draw(st.sampled_from(["days", "working_days"]))
        rule["first_lead"] = {count: draw(st.integers(0, 25)), "before": "deadline"}
    else:
        rule["first_lead_days"] = draw(st.integers(8, 150))
    rule["second_lead_days"] = draw(st.integers(1, 7))
    return rule


@st.composite
def entries(draw: st.DrawFn) -> CatalogueEntry:
    try:
        entry = CatalogueEntry.model_validate(
            {
                "licence_name": "食品经营许可证",
                "code": "spjy",
                "approval_item": "食品经营许可",
                "office": "审批科",
                "statutory_validity": "5年",
                "renewal_window": "有效期届满前申请",
                "online_url": "https://zwfw.example.gov.cn/ay",
                "service_phone": "0372-1234567",
                "materials": ["延续申请书"],
                "lapse_consequences": "逾期经营将被依法查处。",
                "licence_no_digits": draw(st.sampled_from([None, 4, 5, 6])),
                # a short link leaves room for "（N天后）"
                "page_url": draw(st.sampled_from([None, "https://t.cn/sp"])),
                **draw(leads()),
            }
        )
    except ValidationError:
        assume(False)
        raise
    return entry


def sent_on(draw: st.DrawFn, dates: EntryDates, expiry: dt.date) -> tuple[dt.date, int]:
    """A day the policy could send a reminder on, and its stage: from the first reminder date
    (or up to nine days before it, moved off a holiday) to the expiry date, late ones included."""
    first, second = dates.first_on(expiry), dates.second_on(expiry)
    today = draw(st.dates(min(first, second) - dt.timedelta(days=9), expiry))
    return today, 1 if today < second else 2


@settings(max_examples=400, deadline=None)
@given(
    entry=entries(),
    expiry=EXPIRIES,
    holder=NAMES,
    contact=NAMES,
    nos=st.lists(LICENCE_NOS, min_size=1, max_size=4, unique=True),
    data=st.data(),
)
def test_no_text_states_a_day_before_the_sending_day(
    entry, expiry, holder, contact, nos, data
) -> None:  # type: ignore[no-untyped-def]
    dates = EntryDates(entry)
    today, stage = sent_on(data.draw, dates, expiry)
    template = build("scjgj", entry, stage, catalogue_url="https://zwfw.example.gov.cn/tx")
    licences = [Licence(no, expiry, holder, contact) for no in nos]
    body = template.fill(
        message_params(
            template,
            licences,
            today=today,
            deadline=dates.deadline(expiry),
            licence_no_digits=entry.licence_no_digits,
        )
    )
    stated = [dt.date(int(y), int(m), int(d)) for y, m, d in DATE.findall(body)]
    assert stated and all(day >= today for day in stated), (today, body)
    assert chinese_date(expiry) in body
    days = re.search(r"（(\d+)天后）", body)
    if days:
        assert int(days.group(1)) == (expiry - today).days
    if entry.licence_no_digits:
        assert all(licence_tail(no, entry.licence_no_digits) in body for no in nos)


ROWS = st.lists(
    st.builds(
        SimpleNamespace,
        dept_code=st.sampled_from(["scjgj", "jtysj"]),
        contact_mobile=st.sampled_from(["13800000001", "13800000002"]),
        stage=st.sampled_from([1, 2]),
        licence_name=st.sampled_from(["食品经营许可证", "药品经营许可证"]),
        expiry_date=st.sampled_from([dt.date(2027, 1, 6), dt.date(2027, 2, 5)]),
        holder_name=st.sampled_from(["安阳市永盛食品有限公司", "林州市华联餐饮有限公司", None]),
        contact_name=st.sampled_from(["张伟", None]),
        licence_no=LICENCE_NOS,
    ),
    min_size=1,
    max_size=12,
    unique_by=lambda r: r.licence_no,
)
#: how many characters of its licence numbers each entry's messages state (None: none)
DIGITS = {
    "食品经营许可证": st.sampled_from([4, 5, 6]),
    "药品经营许可证": st.sampled_from([None, 4, 6]),
}


@settings(max_examples=300, deadline=None)
@given(rows=ROWS, data=st.data())
def test_every_licence_of_a_grouped_message_appears_with_its_own_expiry(rows, data) -> None:  # type: ignore[no-untyped-def]
    digits = {name: data.draw(choice) for name, choice in DIGITS.items()}
    for i, r in enumerate(rows):
        r.reminder_id, r.licence_no_digits = i, digits[r.licence_name]
    groups = group_reminders(rows)
    assert sorted(r.reminder_id for g in groups for r in g) == list(range(len(rows)))
    today = dt.date(2026, 12, 7)
    for group in groups:
        head = group[0]
        assert (
            len(
                {
                    (
                        r.dept_code,
                        r.contact_mobile,
                        r.stage,
                        r.licence_name,
                        r.expiry_date,
                        r.holder_name,
                    )
                    for r in group
                }
            )
            == 1
        )
        entry = CatalogueEntry.model_validate(
            {
                "licence_name": head.licence_name,
                "approval_item": "许可",
                "office": "审批科",
                "statutory_validity": "5年",
                "renewal_window": "届满前",
                "online_url": "https://zwfw.example.gov.cn",
                "service_phone": "0372-1234567",
                "materials": ["申请书"],
                "lapse_consequences": "将被查处。",
                "licence_no_digits": head.licence_no_digits,
            }
        )
        template = build(head.dept_code, entry, head.stage)
        licences = [
            Licence(r.licence_no, r.expiry_date, r.holder_name, r.contact_name) for r in group
        ]
        body = template.fill(
            message_params(
                template,
                licences,
                today=today,
                deadline=head.expiry_date,
                licence_no_digits=head.licence_no_digits,
            )
        )
        assert (
            len(group) == 1 or head.licence_no_digits
        )  # several licences only where numbers tell them apart
        for r in group:
            assert (
                head.licence_no_digits is None
                or licence_tail(r.licence_no, head.licence_no_digits) in body
            )
            assert f"将于{chinese_date(r.expiry_date)}" in body
        # the expiry and the deadline (here the same day), no other date
        assert {dt.date(*map(int, d)) for d in DATE.findall(body)} == {head.expiry_date}


@settings(max_examples=300, deadline=None)
@given(day=st.dates(dt.date(2024, 1, 1), dt.date(2028, 12, 31)), n=st.integers(0, 60))
def test_n_working_days_before_counts_exactly_n_working_days(day: dt.date, n: int) -> None:
    back = working_days_before(day, n)
    between = [back + dt.timedelta(days=i) for i in range((day - back).days)]
    assert sum(chinese_workday(d) for d in between) == n
    assert n == 0 or chinese_workday(back)
