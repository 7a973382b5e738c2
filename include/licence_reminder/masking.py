"""Masking of personal data before it reaches a log, XCom, report or error message."""

from __future__ import annotations

import re

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
    compact = re.sub(r"[\s-]", "", s)
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


def mask_record(record: dict[str, object]) -> dict[str, object]:
    """A copy of a canonical record with every personal field masked."""
    return {k: (MASKERS[k](v) if k in MASKERS and v is not None else v) for k, v in record.items()}
