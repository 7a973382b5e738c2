"""Per-entry SMS templates: the text each provider approves, its variables and their caps."""

from __future__ import annotations

import re

import pytest
from licence_reminder.registry import CatalogueEntry
from licence_reminder.sms_templates import (
    TWO_SEGMENTS,
    VARIABLES,
    SmsTemplate,
    Var,
    build,
    entry_link,
    variable_caps,
)

ENTRY = CatalogueEntry.model_validate(
    {
        "licence_name": "道路运输从业人员从业资格证",
        "code": "cyzg",
        "approval_item": "从业资格",
        "office": "运输管理科",
        "statutory_validity": "6年",
        "renewal_window": "有效期届满30日前",
        "renewal_deadline_days": 30,
        "first_lead_days": 45,
        "online_url": "https://zwfw.example.gov.cn/ay/cyzg",
        "service_hall": "安阳市政务服务中心三楼",
        "service_phone": "0372-2520101",
        "materials": ["换证申请表"],
        "lapse_consequences": "资格证过期后继续从事道路运输，将被责令改正并处罚款。",
        "sms_consequences": "逾期从业将被处罚。",
    }
)


@pytest.mark.parametrize("stage", [1, 2])
def test_constant_content_is_template_text_and_only_per_holder_values_are_variables(
    stage: int,
) -> None:
    t = build("jtysj", ENTRY, stage, catalogue_url="https://zwfw.example.gov.cn/tx")
    assert t.key == f"jtysj.cyzg.stage{stage}"
    text = t.text()
    for constant in (
        "道路运输从业人员从业资格证",
        "https://zwfw.example.gov.cn/tx/jtysj/cyzg.html",
    ):
        assert constant in text
    assert set(t.variables) <= {"contact", "holder", "licence_no", "expiry", "days", "apply_by"}
    assert t.problems() == []
    if stage == 2:
        assert "逾期从业将被处罚。" in text


def test_provider_texts_name_or_number_the_variables_in_order_of_appearance() -> None:
    t = build("jtysj", ENTRY, 1, catalogue_url="https://zwfw.example.gov.cn/tx")
    numbered = t.text("numbered")
    assert re.findall(r"\{(\d+)\}", numbered) == [str(i) for i in range(1, len(t.variables) + 1)]
    assert re.findall(r"\$\{(\w+)\}", t.text()) == list(t.variables)
    values = {name: VARIABLES[name].example for name in t.variables}
    filled = re.sub(r"\{(\d+)\}", lambda m: values[t.variables[int(m.group(1)) - 1]], numbered)
    assert filled == t.fill(values)  # what the provider delivers is what the product audits


def test_optional_parts_are_kept_only_while_typical_messages_fit_two_sms() -> None:
    long_link = build(
        "jtysj",
        ENTRY.model_copy(
            update={
                "page_url": "https://zwfw.example.gov.cn/a/very/long/path/to/the/catalogue/page/cyzg.html"
            }
        ),
        1,
    )
    short_link = build("jtysj", ENTRY.model_copy(update={"page_url": "https://t.cn/cy"}), 1)
    assert long_link.options == frozenset() and "咨询" not in long_link.text()
    assert short_link.options == {"phone", "days"} and "咨询0372-2520101" in short_link.text()
    assert short_link.typical_length() <= TWO_SEGMENTS


def test_without_a_link_the_template_names_the_hall() -> None:
    entry = ENTRY.model_copy(update={"online_url": None})
    assert entry_link("jtysj", entry, None) is None
    text = build("jtysj", entry, 1).text()
    assert "请到安阳市政务服务中心三楼办理" in text and "http" not in text


def test_the_link_is_the_entry_page_unless_the_department_gives_its_own() -> None:
    assert (
        entry_link("jtysj", ENTRY, "https://x.gov.cn/tx/") == "https://x.gov.cn/tx/jtysj/cyzg.html"
    )
    assert entry_link("jtysj", ENTRY, None) == "https://zwfw.example.gov.cn/ay/cyzg"
    own = ENTRY.model_copy(update={"page_url": "https://t.cn/cy"})
    assert entry_link("jtysj", own, "https://x.gov.cn/tx") == "https://t.cn/cy"


def test_adjacent_variables_and_brackets_are_refused() -> None:
    t = SmsTemplate("d.e.stage1", 1, ("【签】", Var("contact"), Var("holder"), "的证"))
    assert any("adjacent" in p for p in t.problems()) and any("【】" in p for p in t.problems())


def test_caps_are_the_providers_documented_ones_unless_a_connection_says_less() -> None:
    assert variable_caps("aliyun") == {name: 35 for name in VARIABLES}
    assert variable_caps("tencent") == {} and variable_caps("generic") == {}
    assert variable_caps("tencent", 12)["holder"] == 12
    assert variable_caps("aliyun", None, {"holder": 20}) == {
        **{n: 35 for n in VARIABLES},
        "holder": 20,
    }
    assert variable_caps("aliyun", 50)["expiry"] == 35  # a connection cannot raise a documented cap


def test_derived_entry_codes_are_stable_and_valid() -> None:
    entry = ENTRY.model_copy(update={"code": None})
    assert entry.entry_code == entry.model_copy().entry_code
    assert re.fullmatch(r"e[0-9a-f]{7}", entry.entry_code)
