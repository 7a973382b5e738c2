"""Masking of personal data before it reaches a log, XCom, report or error message."""

from __future__ import annotations

import re
import unicodedata
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pyarrow as pa

_ID_SHAPED = re.compile(r"[0-9]{17}[0-9Xx]|[0-9]{15}")
_MOBILE_SHAPED = re.compile(r"(?:\+?86)?1[0-9]{10}")


def mask_mobile(value: object) -> str:
    """``13812345678`` -> ``138****5678``; a shorter value keeps its length and shows less
    (``1390372`` -> ``139**72``), so a wrong number never looks like a whole one; under 7
    characters, all starred."""
    s = "" if value is None else str(value).strip()
    if len(s) >= 11:
        return f"{s[:3]}{'*' * (len(s) - 7)}{s[-4:]}"
    if len(s) >= 7:
        return f"{s[:3]}{'*' * (len(s) - 5)}{s[-2:]}"
    return "*" * len(s)


def mask_id(value: object) -> str:
    """Resident ID / credit code: first 3 and last 2 characters kept (``410***********12``)."""
    s = "" if value is None else str(value).strip()
    if len(s) <= 6:
        return "*" * len(s)
    return f"{s[:3]}{'*' * (len(s) - 5)}{s[-2:]}"


#: what ``str.strip()`` takes off (the characters for which ``str.isspace()`` is true; a unit
#: test checks the list): :func:`mask_ids` must trim exactly what :func:`mask_id` trims
PY_WHITESPACE = (
    "\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005"
    "\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000"
)


def mask_ids(values: pa.Array | pa.ChunkedArray) -> pa.Array:
    """:func:`mask_id` of every value of a string array, with Arrow's string kernels (a sync
    masks a million identity numbers: per value in Python that took most of a second). The same
    text as :func:`mask_id` gives, value by value; null gives ``""`` as None does there. Lengths
    and slices count code points, as Python's do."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks()
    if values.type != pa.string():
        values = values.cast(pa.string())
    text = pc.utf8_trim(values.fill_null(""), characters=PY_WHITESPACE)
    length = pc.utf8_length(text)
    long = pc.greater(length, 6)
    stars = pc.binary_repeat(pa.scalar("*"), pc.if_else(long, pc.subtract(length, 5), length))
    head = pc.if_else(long, pc.utf8_slice_codeunits(text, 0, 3), "")
    tail = pc.if_else(long, pc.utf8_slice_codeunits(text, -2), "")
    return pc.binary_join_element_wise(head, stars, tail, "")


def mask_name(value: object) -> str:
    """``张三丰`` -> ``张**``; organisation names keep their first two characters."""
    s = "" if value is None else str(value).strip()
    if not s:
        return ""
    keep = 2 if len(s) > 6 else 1
    return s[:keep] + "*" * (len(s) - keep)


def mask_licence_no(value: object) -> str:
    """A licence number as shown: kept, since it is how a DBA finds the row, unless it is shaped
    like a resident ID or a mobile number — driving and some practising licences are numbered by
    the holder's ID number."""
    s = "" if value is None else str(value).strip()
    compact = re.sub(r"[\s-]", "", _DATE_PARTS.sub("|", s))
    if _ID_SHAPED.fullmatch(compact):
        return mask_id(s)
    if _MOBILE_SHAPED.fullmatch(compact):
        return mask_mobile(s)
    return s


MASKERS = {
    "licence_no": mask_licence_no,
    "source_key": mask_licence_no,  # a register may be keyed by its holders' ID numbers
    "holder_name": mask_name,
    "contact_name": mask_name,
    "holder_code": mask_id,
    "contact_id_no": mask_id,
    "contact_mobile": mask_mobile,
}


_LONG_DIGITS = re.compile(r"[0-9]{9,}")
#: yyyymmddHHMMSS, the one common non-personal value with a long run of digits
_COMPACT_STAMP = re.compile(
    r"(?:19|20)[0-9]{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12][0-9]|3[01])"
    r"(?:[01][0-9]|2[0-3])[0-5][0-9][0-5][0-9]"
)
#: dates and times with separators, taken out before digits are joined across spaces and dashes
_DATE_PARTS = re.compile(
    r"[0-9]{4}[-/.年][0-9]{1,2}[-/.月][0-9]{1,2}日?"
    r"|[0-9]{1,2}[:时][0-9]{2}(?:[:分][0-9]{2}(?:[.,][0-9]+)?秒?)?"
)
_HAN = r"\u3400-\u4dbf\u4e00-\u9fff\U00020000-\U0003134f"
_DOTS = "·•．・‧∙"
_NAME_SHAPED = re.compile(f"[{_HAN}]{{2,4}}|[{_HAN}]+(?:[{_DOTS}][{_HAN}]+)+")
#: characters of the values a non-personal column holds (statuses, holder types, licence names,
#: dates); a short Chinese text without any of them is taken for a name
#: (surnames such as 许, 常 and 单 are left out: 许可, 正常 and 单位 have another character here)
_DOMAIN_CHARS = frozenset("证照可执书有效正吊销注撤位企业法人个自然年月日长期永久无限固定")


def stray_personal(text: str) -> str | None:
    """How to show a value found in a column that should not hold personal data, or None when
    it may be shown as it is. A mis-mapped column (holder names in ``status``, mobiles in
    ``issue_date``) or a mistyped row still carries an ID number, a mobile or a name."""
    s = unicodedata.normalize("NFKC", text).strip()
    compact = re.sub(r"[\s-]", "", _DATE_PARTS.sub("|", s))
    if any(not _COMPACT_STAMP.fullmatch(run) for run in _LONG_DIGITS.findall(compact)):
        return mask_mobile(s) if _MOBILE_SHAPED.fullmatch(compact) else mask_id(s)
    if _NAME_SHAPED.fullmatch(s) and not _DOMAIN_CHARS.intersection(s):
        return mask_name(s)
    return None


def _masked(key: str, value: object) -> object:
    if value is None:
        return None
    if key in MASKERS:
        return MASKERS[key](value)
    if isinstance(value, str):
        stray = stray_personal(value)
        return value if stray is None else stray
    return value


def mask_record(record: dict[str, object]) -> dict[str, object]:
    """A copy of a canonical record with every personal field masked, and whatever looks like
    personal data in the other fields too."""
    return {k: _masked(k, v) for k, v in record.items()}


#: a run of nine digits or more, spaces and dashes inside allowed (a mobile, an ID number, a
#: landline; a date has eight)
_DIGIT_RUN = re.compile(r"(?<![0-9])[0-9](?:[\s-]?[0-9]){8,}(?:[\s-]?[Xx])?(?![0-9])")


def mask_digit_runs(text: str) -> str:
    """Free text a person typed (a call note) with every mobile- or ID-shaped run of digits
    masked: the audit keeps the note, never a number in it."""

    def masked(m: re.Match[str]) -> str:
        digits = re.sub(r"[\s-]", "", m.group(0))
        return mask_id(digits) if len(digits) >= 15 else mask_mobile(digits)

    return _DIGIT_RUN.sub(masked, text)
