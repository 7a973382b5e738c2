"""The wording rules of a reminder, as rules: what a message may say on the day it is sent."""

from __future__ import annotations

import datetime as dt

import pytest
from licence_reminder.registry import CatalogueEntry
from licence_reminder.render import (
    Licence,
    MessageRejected,
    apply_by,
    check_sms,
    licence_tail,
    message_params,
)
from licence_reminder.sms_templates import build, sms_segments

TODAY = dt.date(2026, 11, 24)
ENTRY = CatalogueEntry.model_validate(
    {
        "licence_name": "食品经营许可证",
        "code": "spjy",
        "approval_item": "食品经营许可",
        "office": "审批科",
        "statutory_validity": "5年",
        "renewal_window": "有效期届满30日前",
        "renewal_deadline_days": 20,
        "online_url": "https://zwfw.example.gov.cn/ay",
        "service_phone": "0372-1234567",
        "materials": ["延续申请书"],
        "lapse_consequences": "证照过期后继续经营将依法承担法律责任。",
        "sms_consequences": "逾期经营属无证经营。",
        "licence_no_digits": 6,
    }
)
STAGE1 = build("scjgj", ENTRY, 1, catalogue_url="https://ay.example.gov.cn/tx")
STAGE2 = build("scjgj", ENTRY, 2, catalogue_url="https://ay.example.gov.cn/tx")


def licence(
    no: str = "JY14105020012345",
    expiry: dt.date = dt.date(2026, 12, 24),
    holder: str | None = "安阳市永盛食品有限公司",
    contact: str | None = "张三",
) -> Licence:
    return Licence(no, expiry, holder, contact)


def params(
    template=STAGE1,
    *licences: Licence,
    today: dt.date = TODAY,
    deadline: dt.date | None = None,
    caps: dict[str, int] | None = None,
) -> dict[str, str]:  # type: ignore[no-untyped-def]
    licences = licences or (licence(),)
    return message_params(
        template,
        list(licences),
        today=today,
        deadline=deadline or licences[0].expiry_date - dt.timedelta(days=20),
        licence_no_digits=6,
        caps=caps,
    )


@pytest.mark.parametrize(
    ("deadline", "said"),
    [
        (dt.date(2026, 12, 4), "2026年12月4日前"),
        (TODAY, "今日内"),
        (dt.date(2026, 11, 23), "尽快"),
        (dt.date(2025, 1, 1), "尽快"),
    ],
)
def test_a_deadline_is_stated_only_while_it_is_ahead(deadline: dt.date, said: str) -> None:
    assert apply_by(deadline, TODAY) == said
    body = STAGE1.fill(params(deadline=deadline))
    assert f"请{said}申请延续" in body


def test_days_left_count_from_the_sending_day() -> None:
    entry = ENTRY.model_copy(update={"licence_no_digits": None, "page_url": "https://t.cn/a"})
    template = build("scjgj", entry, 1)
    assert "days" in template.variables  # a short link leaves room for "（N天后）"
    for sent in (TODAY, TODAY + dt.timedelta(days=3)):
        body = template.fill(
            message_params(template, [licence()], today=sent, deadline=dt.date(2026, 12, 4))
        )
        assert f"（{(dt.date(2026, 12, 24) - sent).days}天后）到期" in body


def test_the_holder_is_named_and_the_contact_greeted() -> None:
    body = STAGE1.fill(params())
    assert body.startswith("尊敬的张三：安阳市永盛食品有限公司的食品经营许可证")


@pytest.mark.parametrize(
    ("holder", "contact", "greeting"),
    [
        (None, "张三", "尊敬的张三：您的"),  # no holder name: the reader's own licence
        ("张三", "张三", "尊敬的张三：您的"),  # a person holding it is the contact
        ("安阳市永盛食品有限公司", None, "尊敬的用户：安阳市永盛食品有限公司的"),
        ("安阳市永盛食品有限公司", "  ", "尊敬的用户：安阳市永盛食品有限公司的"),
        (None, None, "尊敬的用户：您的"),
    ],
)
def test_missing_names_read_sensibly(
    holder: str | None, contact: str | None, greeting: str
) -> None:
    assert STAGE1.fill(params(STAGE1, licence(holder=holder, contact=contact))).startswith(greeting)


def test_a_contact_name_over_the_cap_is_greeted_generically_a_holder_is_refused() -> None:
    caps = {"contact": 5, "holder": 12}
    assert params(STAGE1, licence(contact="欧阳诸葛长名字"), caps=caps)["contact"] == "用户"
    with pytest.raises(MessageRejected, match=r"holder \(13 characters, cap 12\)") as err:
        params(STAGE1, licence(holder="安阳市永盛食品有限公司二部"), caps=caps)
    assert "永盛" not in str(err.value)  # the reason names the variable, never the value


def test_the_licence_number_is_masked_to_its_tail() -> None:
    assert licence_tail("JY1410502 0012345", 4) == "2345"
    body = STAGE1.fill(params())
    assert "（尾号012345）" in body and "JY141050" not in body
    bare = build("scjgj", ENTRY.model_copy(update={"licence_no_digits": None}), 1)
    assert "licence_no" not in bare.variables and "尾号" not in bare.text()


def test_a_grouped_message_lists_every_licence_with_the_shared_expiry() -> None:
    group = [licence("JY14105020019999"), licence("JY14105020012345")]
    p = params(STAGE1, *group)
    assert p["licence_no"] == "012345、019999"  # sorted: the same licences always read the same
    assert "将于2026年12月24日到期" in STAGE1.fill(p)
    with pytest.raises(ValueError, match="one expiry date"):
        params(STAGE1, licence(), licence(expiry=dt.date(2027, 1, 1)))


def test_an_expired_licence_is_never_reminded() -> None:
    with pytest.raises(ValueError, match="expired"):
        params(STAGE1, licence(expiry=TODAY - dt.timedelta(days=1)))


def test_stage2_states_the_short_consequences_and_no_deadline() -> None:
    body = STAGE2.fill(params(STAGE2, today=dt.date(2026, 12, 17)))
    assert (
        "尚未申请延续，请尽快办理。逾期经营属无证经营。详见https://ay.example.gov.cn/tx/scjgj/spjy.html"
        in body
    )
    assert "apply_by" not in STAGE2.variables


@pytest.mark.parametrize(
    ("length", "segments"), [(1, 1), (70, 1), (71, 2), (134, 2), (135, 3), (160, 3)]
)
def test_segments(length: int, segments: int) -> None:
    assert sms_segments(length) == segments


def test_length_counts_signature() -> None:
    length, segments = check_sms("一" * 62, sign_name="安阳市政务")
    assert length == 62 + len("【安阳市政务】") == 69 and segments == 1


def test_rejects_over_the_length_cap_and_a_signature_in_the_text() -> None:
    with pytest.raises(MessageRejected, match="500"):
        check_sms("字" * 495, sign_name="安阳市政务")
    with pytest.raises(MessageRejected, match="signature"):
        check_sms("【安阳】您好", sign_name="安阳")
