"""The data-quality report for department DBAs, and its task-log summary."""

from __future__ import annotations

import collections
import re

import pytest
from licence_reminder.validation import rules as R
from licence_reminder.validation.report import (
    collect_examples,
    collect_warning_examples,
    explain_rule,
    render_report_html,
    summary_lines,
)
from licence_reminder.validation.suite import Rejection, RuleFailure

MOBILE = "13812345678"
RESIDENT_ID = "41050519900307123X"
HOLDER = "张三丰"


def rejection(n: int, rules: list[tuple[str, str]], **raw: str | None) -> Rejection:
    record: dict[str, str | None] = {
        "licence_no": f"L{n:03d}",
        "licence_name": "食品经营许可证",
        "holder_name": HOLDER,
        "holder_type": "个人",
        "holder_code": RESIDENT_ID,
        "contact_name": HOLDER,
        "contact_id_no": RESIDENT_ID,
        "contact_mobile": MOBILE,
        "issue_date": "2021-01-01",
        "expiry_date": "2026-12-31",
        "status": "有效",
        "renewal_applied_on": None,
        "source_updated_at": "2026-11-20 09:30:00",
    }
    record.update(raw)
    failures = [
        RuleFailure(rule, column, f"{column}: something is wrong") for rule, column in rules
    ]
    return Rejection(row_number=n, licence_no=record["licence_no"], raw=record, failures=failures)


REJECTIONS = [
    rejection(1, [("mobile_format", "contact_mobile")], contact_mobile="1381234567"),
    *(
        rejection(n, [("resident_id_check", "contact_id_no"), ("resident_id_check", "holder_code")])
        for n in range(2, 10)
    ),
    rejection(
        10,
        [("licence_not_in_catalogue", "licence_name"), ("date_format:expiry_date", "expiry_date")],
        licence_name="营业执照<b>",
        expiry_date="31/12/2026",
    ),
]
TOTALS = collections.Counter(
    {
        "rows": 1000,
        "valid": 990,
        "rejected": 10,
        "resident_id_check": 8,
        "mobile_format": 1,
        "licence_not_in_catalogue": 1,
        "date_format:expiry_date": 1,
    }
)


def test_collect_examples_keeps_at_most_per_rule_and_masks() -> None:
    examples = collect_examples(REJECTIONS, per_rule=5)

    assert {rule: [e["row_number"] for e in ex] for rule, ex in examples.items()} == {
        "mobile_format": [1],
        "resident_id_check": [2, 3, 4, 5, 6],
        "licence_not_in_catalogue": [10],
        "date_format:expiry_date": [10],
    }
    first = examples["resident_id_check"][0]
    assert first["contact_mobile"] == "138****5678"
    assert first["contact_id_no"] == "410*************3X" and first["holder_name"] == "张**"
    assert first["reason"] == "contact_id_no: something is wrong; holder_code: something is wrong"
    assert first["licence_no"] == "L002" and first["expiry_date"] == "2026-12-31"


@pytest.fixture
def page() -> str:
    return render_report_html(
        department_code="scjgj",
        department_name="安阳市市场监督管理局",
        run_id="scjgj:manual__2026-11-24",
        totals=TOTALS,
        examples=collect_examples(REJECTIONS),
    )


def test_report_shows_counts_and_rules_with_explanations(page: str) -> None:
    text = re.sub(r"<[^>]+>", " ", page)

    assert "安阳市市场监督管理局" in page and "scjgj:manual__2026-11-24" in page
    for label, value in (
        ("读取行数 Rows read", 1000),
        ("进入台账 Loaded", 990),
        ("未接收 Not loaded", 10),
    ):
        assert re.search(rf"{label}\s+{value}\b", text), label
    assert re.search(r"resident_id_check\s+8\b", text)
    assert "1.0%" in text
    assert explain_rule("resident_id_check")[0] in text
    assert html_escaped(explain_rule("date_format:expiry_date")[1]) in page
    assert "期满日期" in explain_rule("date_format:expiry_date")[0]


def html_escaped(s: str) -> str:
    import html

    return html.escape(s)


def test_report_holds_masked_examples_and_never_unmasked_personal_data(page: str) -> None:
    assert "138****5678" in page and "410*************3X" in page and "张**" in page
    for secret in (MOBILE, RESIDENT_ID, HOLDER, "1381234567"):
        assert secret not in page
    assert page.count('class="ex"') == 1 + 5 + 1 + 1  # five examples at most per rule
    assert "5 of 8 rows shown" in page  # the resident_id_check rows the page leaves out
    assert "cli quarantine --dept scjgj --rule resident_id_check --limit 8" in page


def test_report_masks_examples_even_if_given_unmasked() -> None:
    raw = dict(REJECTIONS[0].raw, row_number=1, reason="x")

    page = render_report_html(
        department_code="d",
        department_name="D",
        run_id="r",
        totals={"rows": 1, "valid": 0, "rejected": 1, "mobile_format": 1},
        examples={"mobile_format": [raw]},
    )

    assert "138*****67" in page and "1381234567" not in page and RESIDENT_ID not in page


def test_report_is_self_contained_escaped_and_phone_ready(page: str) -> None:
    assert page.startswith("<!DOCTYPE html>") and page.rstrip().endswith("</html>")
    assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in page
    assert not re.search(r"(src|href)=|https?://|<script|<link", page)
    assert "营业执照&lt;b&gt;" in page and "营业执照<b>" not in page


def test_report_when_everything_passed() -> None:
    page = render_report_html(
        department_code="d",
        department_name="D",
        run_id="r",
        totals={"rows": 5, "valid": 5, "rejected": 0},
        examples={},
    )

    assert "All rows passed validation" in page
    assert "Not loaded, by rule" not in page and "Loaded, please fix, by rule" not in page
    assert "Every rule and what it does to a row" in page  # the severities, always listed


def test_report_separates_not_loaded_from_loaded_please_fix() -> None:
    totals = collections.Counter(
        {
            "rows": 10,
            "valid": 9,
            "rejected": 1,
            "warned": 3,
            "licence_not_in_catalogue": 1,
            "warn:mobile_format": 2,
            "warn:uscc_check": 1,
        }
    )
    warnings = [
        {
            "licence_no": "L1",
            "rule": "mobile_format",
            "column_name": "contact_mobile",
            "message": "contact_mobile: mobile number: has 10 digits, a mainland mobile has 11",
        },
        {
            "licence_no": RESIDENT_ID,
            "rule": "uscc_check",
            "column_name": "holder_code",
            "message": "holder_code: the check character (last) does not match the other 17",
        },
    ]
    page = render_report_html(
        department_code="d",
        department_name="D",
        run_id="r",
        totals=totals,
        examples=collect_examples([REJECTIONS[-1]]),
        warning_examples=collect_warning_examples(warnings),
    )
    text = re.sub(r"<[^>]+>", " ", page)

    assert re.search(r"已接收，请更正 Loaded, please fix\s+3\b", text)
    not_loaded, loaded = (
        text.split("Loaded, please fix, by rule")[0],
        text.split("Loaded, please fix, by rule")[1],
    )
    assert (
        "licence_not_in_catalogue" in not_loaded
        and "mobile_format" not in not_loaded.split("Examples")[0]
    )
    assert re.search(r"mobile_format\s+2\b", loaded) and re.search(r"uscc_check\s+1\b", loaded)
    assert "has 10 digits" in page and "410*************3X" in page and RESIDENT_ID not in page
    assert (
        "cli warnings --dept d --rule mobile_format --limit 2" in page
    )  # one of two examples kept
    for rule in R.all_rules():  # every rule's severity is on the page
        assert f"<code>{rule}</code>" in page


def test_summary_lines_for_the_task_log() -> None:
    lines = summary_lines(department_code="scjgj", run_id="scjgj:r1", totals=TOTALS)

    assert lines[0] == (
        "data quality scjgj run scjgj:r1: 1000 rows read, 990 loaded (0 with warnings), "
        "10 not loaded (1.0%)"
    )
    assert [line.split() for line in lines[2:]] == [
        ["8", "resident_id_check"],
        ["1", "date_format:expiry_date"],
        ["1", "licence_not_in_catalogue"],
        ["1", "mobile_format"],
    ]
    assert not any(s in "\n".join(lines) for s in (MOBILE, RESIDENT_ID, HOLDER))


@pytest.mark.parametrize(
    ("rule", "fragment"),
    [
        pytest.param("required:contact_mobile", "联系人手机号码为空", id="required"),
        pytest.param("date_implausible:expiry_date", "9999-12-31", id="implausible"),
        pytest.param("holder_type_mismatch", "统一社会信用代码", id="mismatch"),
        pytest.param("duplicate_licence_no", "哪一条都不接收", id="duplicate"),
        pytest.param("duplicate_superseded", "台账接收最后更新的一条", id="superseded"),
        pytest.param("name_digits:contact_name", "联系人含有证件号码", id="name-digits"),
    ],
)
def test_every_rule_has_a_plain_explanation(rule: str, fragment: str) -> None:
    zh, en = explain_rule(rule)

    assert fragment in zh and en and "Unknown" not in en


@pytest.mark.parametrize(
    ("licence_no", "shown"),
    [
        pytest.param("SC10641050500123", "SC10641050500123", id="ordinary-kept"),
        pytest.param(RESIDENT_ID, "410*************3X", id="driving-licence-is-an-id-number"),
        pytest.param("410505 19900307 123x", "410***************3x", id="spaced-id"),
        pytest.param("410505900307123", "410**********23", id="15-digit-id"),
        pytest.param(MOBILE, "138****5678", id="mobile"),
    ],
)
def test_licence_numbers_shaped_like_personal_numbers_are_masked(
    licence_no: str, shown: str
) -> None:
    from licence_reminder.masking import mask_licence_no

    (example,) = collect_examples(
        [rejection(1, [("mobile_format", "contact_mobile")], licence_no=licence_no)]
    )["mobile_format"]
    assert example["licence_no"] == shown
    assert mask_licence_no(shown) == shown  # masking twice changes nothing
    assert (
        licence_no
        not in render_report_html(
            department_code="d",
            department_name="某局",
            run_id="r",
            totals=TOTALS,
            examples={"mobile_format": [example]},
        )
        or licence_no == shown
    )


@pytest.mark.parametrize(
    ("mobile", "shown"),
    [
        ("13812345678", "138****5678"),
        ("1390372", "139**72"),
        ("1381234567", "138*****67"),
        ("+8613812345678", "+86*******5678"),
        ("139037", "******"),
    ],
)
def test_a_wrong_mobile_keeps_its_length_and_shows_less(mobile: str, shown: str) -> None:
    from licence_reminder.masking import mask_mobile

    assert mask_mobile(mobile) == shown


def test_report_shows_a_rejected_row_s_source_key_masked_if_id_shaped() -> None:
    examples = collect_examples(
        [
            rejection(1, [("mobile_format", "contact_mobile")], source_key="320"),
            rejection(2, [("mobile_format", "contact_mobile")], source_key=RESIDENT_ID),
        ]
    )
    page = render_report_html(
        department_code="d",
        department_name="D",
        run_id="r",
        totals={"rows": 2, "valid": 0, "rejected": 2, "mobile_format": 2},
        examples=examples,
    )
    assert "源表主键 Source key</dt><dd>320</dd>" in page
    assert "410*************3X" in page and RESIDENT_ID not in page


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        pytest.param(RESIDENT_ID, "410*************3X", id="id-number-in-expiry"),
        pytest.param("410505 19900307 123X", "410***************3X", id="spaced-id-number"),
        pytest.param("139-1234-5678", "139******5678", id="dashed-mobile"),
        pytest.param("王小明", "王**", id="name-in-status"),
        pytest.param("阿卜杜·买买提", "阿卜*****", id="dotted-name"),
    ],
)
def test_personal_data_in_a_column_not_meant_for_it_is_masked(value: str, shown: str) -> None:
    from licence_reminder.masking import mask_record

    masked = mask_record({"expiry_date": value, "status": value, "issue_date": 20261231})

    assert masked == {"expiry_date": shown, "status": shown, "issue_date": 20261231}
    with pytest.raises(ValueError) as info:
        R.parse_date(value)
    assert value not in str(info.value) and shown in str(info.value)


@pytest.mark.parametrize(
    "value",
    [
        "2026-02-30",
        "2026-12-31 23:59:59.123456",
        "20261231235959",
        "2026年12月31日 23时59分",
        "长期",
        "注消",
        "食品经营许可证",
        "46387",
    ],
)
def test_values_a_dba_must_see_are_not_taken_for_personal_data(value: str) -> None:
    from licence_reminder.masking import mask_record

    assert mask_record({"expiry_date": value}) == {"expiry_date": value}
