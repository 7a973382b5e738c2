"""Pure-Python validation rules for the canonical licence record.

Every function here works on one value and is the reference for what is valid: the vectorised
checks in :mod:`licence_reminder.validation.suite` are only a fast path in front of them. Nothing
here imports pandas or Great Expectations, because DAG files may import this module indirectly.

Reason texts name the rule and what is wrong, and never quote a personal value (ID numbers,
mobiles); dates and code-list values, which are not personal, may be quoted (shortened).
"""

from __future__ import annotations

import datetime as dt
import math
import re
import unicodedata
from decimal import Decimal
from typing import Final
from zoneinfo import ZoneInfo

from licence_reminder.config import city_zone
from licence_reminder.masking import stray_personal

# --- rule ids (stable: they are stored in the quarantine table and shown in reports) -------------
EXPIRY_BEFORE_ISSUE: Final = "expiry_before_issue"
MOBILE_FORMAT: Final = "mobile_format"
RESIDENT_ID_CHECK: Final = "resident_id_check"
USCC_CHECK: Final = "uscc_check"
HOLDER_TYPE_VALUE: Final = "holder_type_value"
HOLDER_TYPE_MISMATCH: Final = "holder_type_mismatch"
STATUS_VALUE: Final = "status_value"
LICENCE_NOT_IN_CATALOGUE: Final = "licence_not_in_catalogue"
#: the source holds the licence number more than once and no row of it can be told to be current
DUPLICATE_LICENCE_NO: Final = "duplicate_licence_no"
#: a row of a licence number the source holds more than once, not the one changed last
DUPLICATE_SUPERSEDED: Final = "duplicate_superseded"
#: on the licence loaded from the row of a duplicated number that was changed last
DUPLICATE_IN_SOURCE: Final = "duplicate_in_source"
#: the duplicate rules that keep a row out of the ledger
DUPLICATE_REJECTIONS: Final = frozenset({DUPLICATE_LICENCE_NO, DUPLICATE_SUPERSEDED})


def required(column: str) -> str:
    return f"required:{column}"


def date_format(column: str) -> str:
    return f"date_format:{column}"


def date_implausible(column: str) -> str:
    return f"date_implausible:{column}"


def text_value(column: str) -> str:
    return f"text_value:{column}"


def name_digits(column: str) -> str:
    return f"name_digits:{column}"


# --- severity (docs/connectors.md, "What a rule does to a row") -----------------------------------
#: A row failing a REJECT rule cannot become a reminder at all: it stays out of the ledger, kept in
#: quarantine with every reason. A row failing only WARN rules is loaded, the warnings kept on its
#: licence until the source is fixed; the value that failed is not used (see KEPT_WHEN_WARNED).
REJECT: Final = "reject"
WARN: Final = "warn"
#: what a licence cannot be reminded without: the key, which licence it is, and when it expires
_REJECTED_COLUMNS: Final = frozenset({"licence_no", "licence_name", "expiry_date"})


def severity(rule: str) -> str:
    """REJECT or WARN for a rule id (stable: stored with every run's counts)."""
    base, _, column = rule.partition(":")
    if base in ("required", "date_format", "date_implausible", "text_value"):
        return REJECT if column in _REJECTED_COLUMNS else WARN
    if (
        rule in (EXPIRY_BEFORE_ISSUE, LICENCE_NOT_IN_CATALOGUE, STATUS_VALUE)
        or rule in DUPLICATE_REJECTIONS
    ):
        return REJECT
    return WARN


def all_rules() -> list[str]:
    """Every rule id, in the order reports list them."""
    from licence_reminder.records import REQUIRED_COLUMNS

    return [
        *(required(c) for c in REQUIRED_COLUMNS),
        *(text_value(c) for c in TEXT_LIMITS),
        *(name_digits(c) for c in sorted(NAME_COLUMNS)),
        *(date_format(c) for c in (*DATE_COLUMNS, *DATETIME_COLUMNS)),
        *(date_implausible(c) for c in (*DATE_COLUMNS, *DATETIME_COLUMNS)),
        EXPIRY_BEFORE_ISSUE,
        LICENCE_NOT_IN_CATALOGUE,
        STATUS_VALUE,
        DUPLICATE_LICENCE_NO,
        DUPLICATE_SUPERSEDED,
        MOBILE_FORMAT,
        RESIDENT_ID_CHECK,
        USCC_CHECK,
        HOLDER_TYPE_VALUE,
        HOLDER_TYPE_MISMATCH,
        DUPLICATE_IN_SOURCE,
    ]


#: Warned values kept in the ledger as the source gives them (normalised), where the column holds
#: them: a mobile of ten digits still tells the call staff something, a wrong check character is
#: still the department's own record. Every other warned value is stored as NULL.
KEPT_WHEN_WARNED: Final = frozenset(
    {MOBILE_FORMAT, RESIDENT_ID_CHECK, USCC_CHECK, HOLDER_TYPE_MISMATCH, DUPLICATE_IN_SOURCE}
)
#: the ledger's width of the columns whose warned values are kept: a longer value is not
STORED_WIDTH: Final[dict[str, int]] = {"contact_mobile": 20, "holder_code": 32, "contact_id_no": 18}


#: Free-text columns and the ledger's width of each (characters).
TEXT_LIMITS: Final[dict[str, int]] = {"licence_no": 64, "holder_name": 200, "contact_name": 100}
NAME_COLUMNS: Final = frozenset({"holder_name", "contact_name"})
#: an ID number (18) or a mobile (11) has at least this many digits in a row; no name does
NAME_DIGIT_RUN: Final = 9


def text_problem(column: str, value: str) -> str | None:
    """Why a free-text value cannot be kept (it is never quoted: it may be personal data)."""
    if "\ufffd" in value:
        return (
            f"{column}: holds bytes that are not UTF-8 text (a GBK column read as binary?): "
            "convert it in the SQL, e.g. CONVERT(col USING utf8mb4) or convert_from(col, 'GBK')"
        )
    limit = TEXT_LIMITS[column]
    if len(value) > limit:
        return f"{column}: is {len(value)} characters long, more than the ledger's {limit}"
    return None


def name_problem(column: str, value: str) -> str | None:
    """Why a name looks wrong (it is never quoted: it may be personal data)."""
    if re.search(f"[0-9]{{{NAME_DIGIT_RUN}}}", unicodedata.normalize("NFKC", value)):
        return (
            f"{column}: holds a run of {NAME_DIGIT_RUN} or more digits (an ID number or a mobile "
            "in the name's column?), not a name: it is not used, so that it is never texted"
        )
    return None


#: Canonical columns holding a calendar date, and the one holding a timestamp (the watermark).
DATE_COLUMNS: Final[tuple[str, ...]] = ("issue_date", "expiry_date", "renewal_applied_on")
DATETIME_COLUMNS: Final[tuple[str, ...]] = ("source_updated_at",)

#: Dates outside [1950-01-01, today + 50 years] are placeholders (1900-01-01, 9999-12-31) or typos.
PLAUSIBLE_FROM: Final = dt.date(1950, 1, 1)
PLAUSIBLE_YEARS_AHEAD: Final = 50

HOLDER_TYPE_ALIASES: Final[dict[str, str]] = {
    **dict.fromkeys(("org", "单位", "企业", "法人", "1"), "org"),
    **dict.fromkeys(("person", "个人", "自然人", "2"), "person"),
}
STATUS_ALIASES: Final[dict[str, str]] = {
    **dict.fromkeys(("", "有效", "正常", "valid"), "valid"),
    **dict.fromkeys(("吊销", "revoked"), "revoked"),
    **dict.fromkeys(("注销", "撤销", "cancelled", "canceled"), "cancelled"),
}

# --- patterns shared with the vectorised checks ---------------------------------------------------
MOBILE_PATTERN: Final = r"1[3-9][0-9]{9}"
#: Removed from a mobile before checking: whitespace and the dashes people type.
MOBILE_NOISE_PATTERN: Final = r"[\s\-\u2010-\u2015\u2212]"
#: A country prefix: +86 / 0086 always, bare 86 only when 11 digits follow (else it is the number).
MOBILE_PREFIX_PATTERN: Final = r"^(?:\+86|0086|86(?=[0-9]{11}$))"
RESIDENT_ID_PATTERN: Final = r"[0-9]{17}[0-9X]"
USCC_ALPHABET: Final = "0123456789ABCDEFGHJKLMNPQRTUWXY"
# GB 32100-2015 position 1 (registration authority) includes letters (A military, N agriculture,
# Y other); positions 3-8 are the region code, digits only.
USCC_PATTERN: Final = r"[1-9A-HJ-NP-RTUWXY][0-9A-HJ-NP-RTUWXY][0-9]{6}[0-9A-HJ-NP-RTUWXY]{10}"
RESIDENT_ID_WEIGHTS: Final = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
RESIDENT_ID_CHECKS: Final = "10X98765432"
USCC_WEIGHTS: Final = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
BIRTH_FROM: Final = dt.date(1900, 1, 1)

_MOBILE_NOISE = re.compile(MOBILE_NOISE_PATTERN)
_MOBILE_PREFIX = re.compile(MOBILE_PREFIX_PATTERN)
_MOBILE = re.compile(MOBILE_PATTERN)
_RESIDENT_ID = re.compile(RESIDENT_ID_PATTERN)
_USCC = re.compile(USCC_PATTERN)

_TIME = (
    r"(?:[ T]+(?P<H>[0-9]{1,2}):(?P<M>[0-9]{2})(?::(?P<S>[0-9]{2})(?:\.(?P<F>[0-9]{1,9}))?)?"
    r"\s*(?P<tz>Z|[+-][0-9]{2}(?::?[0-9]{2})?)?)?"
)
_DATE_FORMS = re.compile(
    r"(?:(?P<y1>[0-9]{4})(?P<sep>[-/.])(?P<m1>[0-9]{1,2})(?P=sep)(?P<d1>[0-9]{1,2})"
    r"|(?P<y2>[0-9]{4})(?P<m2>[0-9]{2})(?P<d2>[0-9]{2})"
    r"(?:(?P<H2>[0-9]{2})(?P<M2>[0-9]{2})(?P<S2>[0-9]{2}))?"  # yyyymmddHHMMSS
    r"|(?P<y3>[0-9]{4})\s*年\s*(?P<m3>[0-9]{1,2})\s*月\s*(?P<d3>[0-9]{1,2})\s*日"
    r"(?:\s*(?P<H3>[0-9]{1,2})\s*[时點点]\s*(?:(?P<M3>[0-9]{1,2})\s*分\s*(?:(?P<S3>[0-9]{1,2})\s*秒)?)?)?)"
    + _TIME
)
_ZERO_DATE = re.compile(r"0000([-/.]?)00\1(?:00)(?:[ T]+00:00(?::00(?:\.0+)?)?)?")


#: how registers write "valid with no end date"
_OPEN_ENDED = frozenset({"长期", "长期有效", "永久", "永久有效", "无期限", "不限期", "无固定期限"})


def quoted(text: str, limit: int = 32) -> str:
    """A value of a non-personal column (date, code list, licence name) quoted in a reason.

    A mis-mapped column can still carry an ID number, a mobile or a name: those are not quoted.
    """
    stray = stray_personal(text)
    if stray is not None:
        return f"a value of {len(text)} characters that looks like personal data ({stray})"
    return repr(text if len(text) <= limit else text[:limit] + "…")


def _tzinfo(tz: str) -> ZoneInfo:
    return ZoneInfo(tz)


def _is_missing(value: object) -> bool:
    if value is None:
        return True
    try:
        # NaN and pandas NaT/NA are the only values unequal to themselves here.
        return bool(value != value)  # noqa: PLR0124 - the test that covers NaN, NaT and NA
    except (TypeError, ValueError):
        return False


def _integral_text(value: object) -> str | None:
    """``20261231`` / ``Decimal('20261231')`` / ``20261231.0`` as digits; None if not integral."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return str(value)
    if isinstance(value, Decimal):
        return str(int(value)) if value.is_finite() and value == value.to_integral_value() else None
    if isinstance(value, float):
        return str(int(value)) if math.isfinite(value) and value.is_integer() else None
    return None


def as_text(value: object) -> str | None:
    """A driver value as stripped text (None for null/empty); integral numbers without ``.0``."""
    if isinstance(value, str):
        return value.strip() or None
    if value is None or _is_missing(value):
        return None
    if isinstance(value, bytes):
        s = value.decode("utf-8", errors="replace").strip()
    elif (digits := _integral_text(value)) is not None:
        s = digits
    elif isinstance(value, dt.datetime):
        s = value.isoformat(sep=" ")
    elif isinstance(value, dt.date):
        s = value.isoformat()
    else:
        s = str(value).strip()
    return s or None


# --- dates ---------------------------------------------------------------------------------------


def _excel_hint(s: str) -> str:
    """Spreadsheets store a date as days since 1899-12-30: an export without its format gives
    ``46387`` for 2026-12-31."""
    if not (s.isdigit() and len(s) == 5):
        return ""
    day = dt.date(1899, 12, 30) + dt.timedelta(days=int(s))
    return (
        f" (it looks like a spreadsheet's day number, which would be {day.isoformat()}: convert "
        f"the column to a date, or export it as text)"
    )


def _from_text(raw: str, tz: str) -> tuple[dt.date, dt.datetime]:
    s = unicodedata.normalize("NFKC", raw).strip()
    if not s:
        raise ValueError("no date given")
    if _ZERO_DATE.fullmatch(s):
        raise ValueError(
            f"{quoted(raw.strip())} is a zero date (no real day: a placeholder for a missing date)"
        )
    m = _DATE_FORMS.fullmatch(s)
    if m is None:
        if s in _OPEN_ENDED:
            raise ValueError(
                f"{quoted(raw.strip())} means the licence does not expire, and a licence without an "
                f"expiry date gets no reminder: leave such rows out of the extract (a WHERE clause)"
            )
        raise ValueError(f"{quoted(raw.strip())} is not a recognised date format{_excel_hint(s)}")
    g = m.groupdict()
    y, mo, d = next((g[f"y{i}"], g[f"m{i}"], g[f"d{i}"]) for i in (1, 2, 3) if g[f"y{i}"])
    try:
        day = dt.date(int(y), int(mo), int(d))
        hh, mi, ss = (
            next((g[k] for k in (part, f"{part}2", f"{part}3") if g[k]), 0) for part in "HMS"
        )
        moment = dt.datetime(
            day.year,
            day.month,
            day.day,
            int(hh),
            int(mi),
            int(ss),
            int((g["F"] or "0")[:6].ljust(6, "0")),
        )
    except ValueError:
        raise ValueError(f"{quoted(raw.strip())} is not a real date") from None
    if g["tz"]:
        off = g["tz"]
        if off == "Z":
            zone = dt.UTC
        else:
            hh, mm = int(off[1:3]), int(off[3:].lstrip(":") or 0)  # +08, +0800, +08:00
            if hh > 23 or mm > 59:
                raise ValueError(f"{quoted(raw.strip())} has an impossible UTC offset")
            sign = 1 if off[0] == "+" else -1
            zone = dt.timezone(sign * dt.timedelta(hours=hh, minutes=mm))
        moment = moment.replace(tzinfo=zone).astimezone(_tzinfo(tz)).replace(tzinfo=None)
        return moment.date(), moment
    return day, moment


#: how the driver gives PostgreSQL's 'infinity' and '-infinity' (date.max, date.min)
_WHY_IMPLAUSIBLE: Final = {
    dt.date.max: "(a placeholder, a typo, or PostgreSQL's 'infinity': a licence without an expiry "
    "date gets no reminder, so leave such rows out of the extract, or give NULL for an "
    "optional column)",
    dt.date.min: "(a placeholder, a typo, or PostgreSQL's '-infinity': give the real date, or NULL "
    "for an optional column)",
}


def parse_parts(value: object, *, tz: str | None = None) -> tuple[dt.date, dt.datetime]:
    """(calendar date, naive datetime in ``tz``, the city's zone by default) of a driver value, in
    one parse."""
    try:
        return _parse_parts(value, tz or city_zone())
    except OverflowError:  # 9999-12-31 23:00 UTC has no Beijing time
        raise ValueError(
            "the date is out of range after conversion to Beijing time "
            + _WHY_IMPLAUSIBLE[dt.date.max]
        ) from None


def _parse_parts(value: object, tz: str) -> tuple[dt.date, dt.datetime]:
    if _is_missing(value):
        raise ValueError("no date given")
    if isinstance(value, dt.datetime):  # pandas Timestamp is a datetime too
        if value.tzinfo is not None:
            value = value.astimezone(_tzinfo(tz)).replace(tzinfo=None)
        moment = dt.datetime(
            value.year,
            value.month,
            value.day,
            value.hour,
            value.minute,
            value.second,
            value.microsecond,
        )
        return moment.date(), moment
    if isinstance(value, dt.date):
        return value, dt.datetime(value.year, value.month, value.day)
    if isinstance(value, bytes):
        value = value.decode("utf-8", errors="replace")
    if isinstance(value, str):
        return _from_text(value, tz)
    if (digits := _integral_text(value)) is not None:
        return _from_text(digits, tz)
    if type(value).__name__ == "datetime64":  # numpy scalar, e.g. from Series.to_numpy()
        return _from_text(str(value), tz)
    raise ValueError(f"a value of type {type(value).__name__} is not a date")


def parse_date(value: object, *, tz: str | None = None) -> dt.date:
    """The calendar date of a driver value; tz-aware times are first converted to ``tz``.

    Raises ValueError with a reason (``'31/12/2026' is not a recognised date format``).
    """
    return parse_parts(value, tz=tz)[0]


def parse_datetime(value: object, *, tz: str | None = None) -> dt.datetime:
    """A naive datetime in ``tz`` (the watermark column); a bare date means its midnight."""
    return parse_parts(value, tz=tz)[1]


def plausible_range(today: dt.date) -> tuple[dt.date, dt.date]:
    try:
        latest = today.replace(year=today.year + PLAUSIBLE_YEARS_AHEAD)
    except ValueError:  # 29 February
        latest = today.replace(year=today.year + PLAUSIBLE_YEARS_AHEAD, day=28)
    return PLAUSIBLE_FROM, latest


def date_plausibility_problem(value: dt.date, today: dt.date) -> str | None:
    lo, hi = plausible_range(today)
    why = _WHY_IMPLAUSIBLE.get(
        dt.date(value.year, value.month, value.day), "(a placeholder or a typo)"
    )
    if value < lo:
        return f"{value.isoformat()} is before {lo.isoformat()} {why}"
    if value > hi:
        return f"{value.isoformat()} is more than {PLAUSIBLE_YEARS_AHEAD} years ahead {why}"
    return None


# --- identity numbers ----------------------------------------------------------------------------


def _today() -> dt.date:
    return dt.datetime.now(_tzinfo(city_zone())).date()


def id_text(value: object) -> str:
    """An identity number as validated and kept: half-width, upper case, without spaces
    (``410505 19900307 123x`` is ``41050519900307123X``)."""
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", as_text(value) or "")).upper()


def resident_id_problem(value: object, *, today: dt.date | None = None) -> str | None:
    """Why ``value`` is not a valid 18-character resident ID (GB 11643-1999), or None.

    The region code is not looked up: python-stdnum's table lacks current codes (Anyang 410502/
    410503/410505, Shenzhen 440305) and abolished counties' codes stay on valid IDs. A 15-digit
    first-generation number is rejected: those cards lost validity on 2013-01-01 and the same
    person's 18-character number differs, so accepting both would split one holder in two.
    """
    from stdnum.cn.ric import calc_check_digit

    s = id_text(value)
    what = "resident ID (GB 11643-1999)"
    if not s:
        return f"{what}: empty"
    if len(s) == 15 and s.isascii() and s.isdigit():
        return (
            f"{what}: a 15-digit first-generation number, invalid since 2013-01-01; "
            "the 18-character number is needed"
        )
    if len(s) != 18:
        return f"{what}: must be 18 characters, has {len(s)}"
    if not _RESIDENT_ID.fullmatch(s):
        return f"{what}: must be 17 digits followed by a digit or X"
    try:
        birth = dt.date(int(s[6:10]), int(s[10:12]), int(s[12:14]))
    except ValueError:
        return f"{what}: the birth date (characters 7-14) is not a real date"
    if birth < BIRTH_FROM:
        return f"{what}: the birth date (characters 7-14) is before 1900"
    if birth > (today or _today()):
        return f"{what}: the birth date (characters 7-14) is in the future"
    if calc_check_digit(s) != s[17]:
        return f"{what}: the check character (last) does not match the other 17"
    return None


def uscc_problem(value: object) -> str | None:
    """Why ``value`` is not a valid unified social credit code (GB 32100-2015), or None.

    Only stdnum's check-character calculation is used: ``stdnum.cn.uscc.validate`` wants the
    first 8 characters to be digits, which rejects real codes of registration authorities A, N
    (rural collectives) and Y.
    """
    from stdnum.cn.uscc import calc_check_digit

    s = id_text(value)
    what = "unified social credit code (GB 32100-2015)"
    if not s:
        return f"{what}: empty"
    if len(s) != 18:
        return f"{what}: must be 18 characters, has {len(s)}"
    if not _USCC.fullmatch(s):
        return (
            f"{what}: wrong characters (digits and capital letters without I, O, S, V, Z; "
            "characters 3-8 digits)"
        )
    if calc_check_digit(s) != s[17]:
        return f"{what}: the check character (last) does not match the other 17"
    return None


# --- mobile --------------------------------------------------------------------------------------


def normalise_mobile(value: object) -> str | None:
    """Spaces and dashes removed, full-width digits made ASCII, +86 / 0086 / 86 prefix dropped."""
    s = as_text(value)
    if s is None:
        return None
    s = _MOBILE_PREFIX.sub("", _MOBILE_NOISE.sub("", unicodedata.normalize("NFKC", s)))
    return s or None


def mobile_problem(value: object) -> str | None:
    what = "mobile number"
    s = normalise_mobile(value)
    if s is None:
        return f"{what}: empty"
    if _MOBILE.fullmatch(s):
        return None
    if not (s.isascii() and s.isdigit()):
        return f"{what}: contains characters other than digits, spaces, dashes and a +86 prefix"
    if len(s) != 11:
        return f"{what}: has {len(s)} digits, a mainland mobile has 11"
    return f"{what}: must start with 13-19"


# --- code lists ----------------------------------------------------------------------------------


def normalise_holder_type(value: object) -> str | None:
    """ "org" / "person", or None when the value is empty or not a known spelling."""
    s = as_text(value)
    return None if s is None else HOLDER_TYPE_ALIASES.get(s.lower())


def normalise_status(value: object) -> str | None:
    """ "valid" / "revoked" / "cancelled"; empty means valid; None for an unknown value."""
    s = as_text(value)
    return "valid" if s is None else STATUS_ALIASES.get(s.lower())


def shown_value(value: object) -> str:
    """A non-personal value quoted in a reason (code-list values, licence names, dates)."""
    return quoted(as_text(value) or "")
