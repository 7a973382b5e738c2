"""The pure-Python validation rules: identity numbers, mobiles, dates, code lists."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from licence_reminder.validation import rules as R

TODAY = dt.date(2026, 11, 24)
_W = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_USCC_W = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)


def rid(body: str) -> str:
    """A resident ID with its GB 11643-1999 check character, computed here independently."""
    return body + "10X98765432"[sum(int(c) * w for c, w in zip(body, _W, strict=True)) % 11]


def uscc(body: str) -> str:
    total = sum(_USCC_ALPHABET.index(c) * w for c, w in zip(body, _USCC_W, strict=True))
    return body + _USCC_ALPHABET[(31 - total % 31) % 31]


def wrong_check(number: str) -> str:
    return number[:-1] + ("1" if number[-1] != "1" else "2")


ANYANG_WENFENG = rid("41050219700101001")
ANYANG_BEIGUAN = rid("41050320000229004")  # born on a leap day
ANYANG_LONGAN = rid("41050519900307123")
SHENZHEN_NANSHAN = rid("44030519851111002")
ENDS_IN_X = "41050519900307001X"


# --- resident ID ----------------------------------------------------------------------------------


def test_check_character_helper_agrees_with_stdnum() -> None:
    from stdnum.cn.ric import calc_check_digit

    assert ENDS_IN_X == rid("41050519900307001")
    for number in (ANYANG_WENFENG, ANYANG_LONGAN, SHENZHEN_NANSHAN, ENDS_IN_X):
        assert calc_check_digit(number) == number[-1]


@pytest.mark.parametrize(
    "number",
    [
        pytest.param(ANYANG_WENFENG, id="anyang-410502"),
        pytest.param(ANYANG_BEIGUAN, id="anyang-410503-leap-day"),
        pytest.param(ANYANG_LONGAN, id="anyang-410505"),
        pytest.param(SHENZHEN_NANSHAN, id="shenzhen-440305"),
        pytest.param(ENDS_IN_X, id="check-X"),
        pytest.param(ENDS_IN_X.lower(), id="check-lowercase-x"),
        pytest.param(f"  {ANYANG_LONGAN} ", id="surrounding-spaces"),
        pytest.param(rid("11010119000101002"), id="born-1900-01-01"),
        pytest.param(rid(f"110101{TODAY:%Y%m%d}002"), id="born-today"),
    ],
)
def test_valid_resident_ids(number: str) -> None:
    assert R.resident_id_problem(number, today=TODAY) is None


@pytest.mark.parametrize(
    ("number", "fragment"),
    [
        pytest.param(wrong_check(ANYANG_LONGAN), "check character", id="wrong-check-char"),
        pytest.param(wrong_check(ENDS_IN_X), "check character", id="X-replaced"),
        pytest.param(rid("41050519900230123"), "not a real date", id="feb-30"),
        pytest.param(rid("41050519901301123"), "not a real date", id="month-13"),
        pytest.param(rid("41050518991231123"), "before 1900", id="born-1899"),
        pytest.param(rid("41050520261125123"), "in the future", id="born-tomorrow"),
        pytest.param(ANYANG_LONGAN[:17], "18 characters, has 17", id="too-short"),
        pytest.param(ANYANG_LONGAN + "1", "18 characters, has 19", id="too-long"),
        pytest.param("41050519900307A231", "17 digits", id="letter-inside"),
        pytest.param("410505900307123", "15-digit first-generation", id="legacy-15-digit"),
        pytest.param("", "empty", id="empty"),
        pytest.param(None, "empty", id="none"),
    ],
)
def test_invalid_resident_ids(number: str | None, fragment: str) -> None:
    problem = R.resident_id_problem(number, today=TODAY)

    assert problem is not None and fragment in problem
    assert "resident ID" in problem
    if number:
        assert number.strip() not in problem


# --- unified social credit code --------------------------------------------------------------------


@pytest.mark.parametrize(
    "code",
    [
        pytest.param("91110000600037341L", id="published-example"),
        pytest.param(uscc("91410500MA44AB12C"), id="enterprise-anyang"),
        pytest.param(uscc("N2410522MF0000001"), id="rural-collective-N"),
        pytest.param(uscc("Y1410500MF0000002"), id="other-authority-Y"),
        pytest.param(uscc("91410500MA44AB12C").lower(), id="lower-case"),
    ],
)
def test_valid_uscc(code: str) -> None:
    assert R.uscc_problem(code) is None


def test_stdnum_validate_would_reject_a_real_N_code() -> None:
    from stdnum.cn import uscc as stdnum_uscc

    assert not stdnum_uscc.is_valid(
        uscc("N2410522MF0000001")
    )  # why rules.py checks the format itself


@pytest.mark.parametrize(
    ("code", "fragment"),
    [
        pytest.param(wrong_check("91110000600037341L"), "check character", id="wrong-check"),
        pytest.param("91110000600037341", "18 characters, has 17", id="short"),
        pytest.param("9111000060003734IL", "wrong characters", id="letter-I"),
        pytest.param("91A10000600037341L", "wrong characters", id="letter-in-region"),
        pytest.param("01110000600037341L", "wrong characters", id="authority-0"),
        pytest.param("", "empty", id="empty"),
    ],
)
def test_invalid_uscc(code: str, fragment: str) -> None:
    problem = R.uscc_problem(code)

    assert problem is not None and fragment in problem and "GB 32100-2015" in problem
    if code:
        assert code not in problem


# --- mobile -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        pytest.param("13812345678", "13812345678", id="plain"),
        pytest.param("+86 138 1234 5678", "13812345678", id="plus86-spaces"),
        pytest.param("+86-138-1234-5678", "13812345678", id="plus86-dashes"),
        pytest.param("0086 13812345678", "13812345678", id="0086"),
        pytest.param("8613812345678", "13812345678", id="bare-86"),
        pytest.param(" 138 1234 5678 ", "13812345678", id="spaces"),
        pytest.param("１３８１２３４５６７８", "13812345678", id="full-width"),
        pytest.param(13812345678, "13812345678", id="int-from-bigint-column"),
        pytest.param(13812345678.0, "13812345678", id="float-from-int-column-with-null"),
        pytest.param(Decimal(19912345678), "19912345678", id="decimal"),
    ],
)
def test_mobiles_normalised_and_valid(raw: object, expected: str) -> None:
    assert R.normalise_mobile(raw) == expected
    assert R.mobile_problem(raw) is None


@pytest.mark.parametrize(
    ("raw", "fragment"),
    [
        pytest.param("12812345678", "start with 13-19", id="prefix-12"),
        pytest.param("1381234567", "10 digits", id="ten-digits"),
        pytest.param("138123456789", "12 digits", id="twelve-digits"),
        pytest.param("138-1234-567a", "other than digits", id="letter"),
        pytest.param("010-12345678", "start with 13-19", id="landline"),
        pytest.param("", "empty", id="empty"),
    ],
)
def test_invalid_mobiles(raw: str, fragment: str) -> None:
    problem = R.mobile_problem(raw)

    assert problem is not None and fragment in problem
    if raw:
        assert R.normalise_mobile(raw) not in problem


# --- dates --------------------------------------------------------------------------------------------

SH = ZoneInfo("Asia/Shanghai")


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        pytest.param("2026-12-31", dt.date(2026, 12, 31), id="iso"),
        pytest.param("2026/12/31", dt.date(2026, 12, 31), id="slashes"),
        pytest.param("2026.12.31", dt.date(2026, 12, 31), id="dots"),
        pytest.param("20261231", dt.date(2026, 12, 31), id="compact"),
        pytest.param("2026-12-31 00:00:00", dt.date(2026, 12, 31), id="with-midnight"),
        pytest.param("2026-12-31T08:00:00+00:00", dt.date(2026, 12, 31), id="utc-morning"),
        pytest.param(
            "2026-12-31T20:00:00+00:00", dt.date(2027, 1, 1), id="utc-evening-next-day-in-beijing"
        ),
        pytest.param("2026年12月31日", dt.date(2026, 12, 31), id="chinese"),
        pytest.param("2026年1月5日", dt.date(2026, 1, 5), id="chinese-single-digits"),
        pytest.param("２０２６年１２月３１日", dt.date(2026, 12, 31), id="full-width"),
        pytest.param("  2026-12-31\u3000", dt.date(2026, 12, 31), id="whitespace"),
        pytest.param("2026-1-5", dt.date(2026, 1, 5), id="single-digit-month-day"),
        pytest.param(dt.date(2026, 12, 31), dt.date(2026, 12, 31), id="date"),
        pytest.param(
            dt.datetime(2026, 12, 31, 23, 59), dt.date(2026, 12, 31), id="naive-datetime-is-beijing"
        ),
        pytest.param(
            dt.datetime(2026, 12, 31, 17, 0, tzinfo=dt.UTC),
            dt.date(2027, 1, 1),
            id="aware-datetime",
        ),
        pytest.param(20261231, dt.date(2026, 12, 31), id="int"),
        pytest.param(Decimal(20261231), dt.date(2026, 12, 31), id="decimal"),
    ],
)
def test_parse_date_accepts(value: object, expected: dt.date) -> None:
    assert R.parse_date(value) == expected


def test_parse_date_accepts_pandas_timestamp() -> None:
    import pandas as pd

    assert R.parse_date(pd.Timestamp("2026-12-31 20:00", tz="UTC")) == dt.date(2027, 1, 1)
    assert R.parse_date(pd.Timestamp("2026-12-31 20:00")) == dt.date(2026, 12, 31)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        pytest.param("31/12/2026", "'31/12/2026' is not a recognised date format", id="day-first"),
        pytest.param("2026-02-30", "'2026-02-30' is not a real date", id="feb-30"),
        pytest.param("2026-13-01", "'2026-13-01' is not a real date", id="month-13"),
        pytest.param("0000-00-00", "zero date", id="mysql-zero-date"),
        pytest.param("0000-00-00 00:00:00", "zero date", id="mysql-zero-datetime"),
        pytest.param("00000000", "zero date", id="compact-zero"),
        pytest.param("2026-12/31", "not a recognised date format", id="mixed-separators"),
        pytest.param("长期", "'长期' means the licence does not expire", id="long-term"),
        pytest.param(
            "46387", "a spreadsheet's day number, which would be 2026-12-31", id="excel-serial"
        ),
        pytest.param(46387, "a spreadsheet's day number", id="excel-serial-int"),
        pytest.param("2026年6月1日 25时", "not a real date", id="chinese-hour-25"),
        pytest.param(" 长期有效 ", "leave such rows out of the extract", id="long-term-valid"),
        pytest.param("", "no date given", id="empty"),
        pytest.param(None, "no date given", id="none"),
        pytest.param(True, "not a date", id="bool"),
        pytest.param(3.5, "not a date", id="fraction"),
        pytest.param("9999-12-31T23:00:00Z", "out of range", id="overflows-in-beijing"),
        pytest.param(
            dt.datetime(9999, 12, 31, 23, tzinfo=dt.UTC), "out of range", id="aware-overflow"
        ),
    ],
)
def test_parse_date_rejects_with_reason(value: object, message: str) -> None:
    with pytest.raises(ValueError) as info:
        R.parse_date(value)

    assert message in str(info.value)


def test_date_error_never_quotes_a_long_digit_run() -> None:
    with pytest.raises(ValueError) as info:
        R.parse_date(ANYANG_LONGAN)

    assert ANYANG_LONGAN not in str(info.value) and "looks like personal data" in str(info.value)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        pytest.param("2026-12-31 08:30:05", dt.datetime(2026, 12, 31, 8, 30, 5), id="text"),
        pytest.param("2026-12-31T00:30:00Z", dt.datetime(2026, 12, 31, 8, 30), id="utc-z"),
        pytest.param(
            dt.datetime(2026, 6, 1, 0, 0, tzinfo=dt.UTC), dt.datetime(2026, 6, 1, 8, 0), id="aware"
        ),
        pytest.param(dt.date(2026, 6, 1), dt.datetime(2026, 6, 1), id="date-is-midnight"),
        pytest.param("20260601083000", dt.datetime(2026, 6, 1, 8, 30), id="compact-datetime"),
        pytest.param("2026年6月1日 8时30分", dt.datetime(2026, 6, 1, 8, 30), id="chinese-time"),
        pytest.param(
            "2026年6月1日08时30分05秒", dt.datetime(2026, 6, 1, 8, 30, 5), id="chinese-seconds"
        ),
        pytest.param(
            "2026年6月1日 8:30", dt.datetime(2026, 6, 1, 8, 30), id="chinese-date-colon-time"
        ),
    ],
)
def test_parse_datetime_is_naive_beijing(value: object, expected: dt.datetime) -> None:
    got = R.parse_datetime(value)

    assert got == expected and got.tzinfo is None


@pytest.mark.parametrize(
    ("value", "implausible"),
    [
        pytest.param(dt.date(1900, 1, 1), True, id="1900-placeholder"),
        pytest.param(dt.date(1949, 12, 31), True, id="before-1950"),
        pytest.param(dt.date(1950, 1, 1), False, id="1950"),
        pytest.param(dt.date(2076, 11, 24), False, id="today-plus-50-years"),
        pytest.param(dt.date(2076, 11, 25), True, id="beyond-50-years"),
        pytest.param(dt.date(9999, 12, 31), True, id="9999-placeholder"),
    ],
)
def test_date_plausibility(value: dt.date, implausible: bool) -> None:
    assert (R.date_plausibility_problem(value, TODAY) is not None) is implausible


# --- code lists -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        *(
            pytest.param(v, "org", id=f"org-{v}")
            for v in ("org", "ORG", "单位", "企业", "法人", "1", 1, " 单位 ")
        ),
        *(
            pytest.param(v, "person", id=f"person-{v}")
            for v in ("person", "Person", "个人", "自然人", "2", 2)
        ),
        pytest.param("其他", None, id="unknown"),
        pytest.param(None, None, id="none"),
    ],
)
def test_normalise_holder_type(raw: object, expected: str | None) -> None:
    assert R.normalise_holder_type(raw) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        *(
            pytest.param(v, "valid", id=f"valid-{v}")
            for v in (None, "", "有效", "正常", "valid", "VALID")
        ),
        *(pytest.param(v, "revoked", id=f"revoked-{v}") for v in ("吊销", "revoked")),
        *(
            pytest.param(v, "cancelled", id=f"cancelled-{v}")
            for v in ("注销", "撤销", "cancelled", "canceled")
        ),
        pytest.param("暂停", None, id="unknown"),
    ],
)
def test_normalise_status(raw: object, expected: str | None) -> None:
    assert R.normalise_status(raw) == expected


def test_rule_ids_are_stable() -> None:
    assert (
        R.required("expiry_date"),
        R.date_format("issue_date"),
        R.date_implausible("expiry_date"),
    ) == ("required:expiry_date", "date_format:issue_date", "date_implausible:expiry_date")
    assert [
        R.EXPIRY_BEFORE_ISSUE,
        R.MOBILE_FORMAT,
        R.RESIDENT_ID_CHECK,
        R.USCC_CHECK,
        R.HOLDER_TYPE_VALUE,
        R.HOLDER_TYPE_MISMATCH,
        R.STATUS_VALUE,
        R.LICENCE_NOT_IN_CATALOGUE,
        R.DUPLICATE_LICENCE_NO,
    ] == [
        "expiry_before_issue",
        "mobile_format",
        "resident_id_check",
        "uscc_check",
        "holder_type_value",
        "holder_type_mismatch",
        "status_value",
        "licence_not_in_catalogue",
        "duplicate_licence_no",
    ]


def test_rules_module_imports_neither_pandas_nor_gx() -> None:
    code = (
        "import sys; import licence_reminder.validation.rules; "
        "bad = {'pandas', 'great_expectations'} & set(sys.modules); print(sorted(bad))"
    )
    include = str(Path(__file__).resolve().parents[2] / "include")
    env = {**os.environ, "PYTHONPATH": include}
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env
    )

    assert out.stdout.strip() == "[]"


@pytest.mark.parametrize(
    ("value", "hint"),
    [(dt.date.max, "PostgreSQL's 'infinity'"), (dt.date.min, "PostgreSQL's '-infinity'")],
)
def test_postgresql_infinities_are_named_where_they_fail(value: dt.date, hint: str) -> None:
    assert hint in str(R.date_plausibility_problem(value, dt.date(2026, 11, 25)))
    assert "a placeholder or a typo" in str(
        R.date_plausibility_problem(dt.date(1900, 1, 1), dt.date(2026, 11, 25))
    )


def test_aware_infinity_overflows_with_the_same_hint() -> None:
    with pytest.raises(
        ValueError, match="out of range after conversion to Beijing time .*'infinity'"
    ):
        R.parse_date(dt.datetime.max.replace(tzinfo=dt.UTC))
