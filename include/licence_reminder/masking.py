"""Masking of personal data before it reaches a log, XCom, report or error message."""

from __future__ import annotations


def mask_mobile(value: object) -> str:
    """``13812345678`` -> ``138****5678``; anything short is starred whole."""
    s = "" if value is None else str(value).strip()
    if len(s) >= 7:
        return f"{s[:3]}{'*' * (len(s) - 7)}{s[-4:]}" if len(s) > 11 else f"{s[:3]}****{s[-4:]}"
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


MASKERS = {
    "holder_name": mask_name,
    "contact_name": mask_name,
    "holder_code": mask_id,
    "contact_id_no": mask_id,
    "contact_mobile": mask_mobile,
}


def mask_record(record: dict[str, object]) -> dict[str, object]:
    """A copy of a canonical record with every personal field masked."""
    return {k: (MASKERS[k](v) if k in MASKERS and v is not None else v) for k, v in record.items()}
