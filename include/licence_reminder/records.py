"""The canonical licence record every department's extract SQL must produce.

A department's extract maps its own columns onto these names; everything downstream (validation,
ledger merge, reminders) speaks only this vocabulary.
"""

from __future__ import annotations

from typing import Final

#: Columns of the canonical record, in ledger order.
CANONICAL_COLUMNS: Final[tuple[str, ...]] = (
    "licence_no",  # 证照编号: unique within the department
    "licence_name",  # 证照名称: must match an entry of the department's catalogue
    "holder_name",  # 证照持有单位(个人)
    "holder_type",  # "org" (单位) or "person" (个人)
    "holder_code",  # unified social credit code (org) or resident ID number (person)
    "contact_name",  # 联系人(提醒对象)
    "contact_id_no",  # 身份证号 of the contact person
    "contact_mobile",  # 联系人手机号码
    "issue_date",  # 发证日期
    "expiry_date",  # 期满日期
    "status",  # "valid", "revoked" or "cancelled" (吊销 / 注销)
    "renewal_applied_on",  # date the holder applied to renew/extend, if any
    "source_updated_at",  # the source row's last change, used as the incremental watermark
)

#: Not part of the record: the value of the department's ``split_column`` (its table's key),
#: carried beside a row when the extract returns it, so that a rejected row can be found.
SOURCE_KEY: Final = "source_key"
#: as the quarantine keeps it (a longer key is cut: it only helps find the row)
SOURCE_KEY_LENGTH: Final = 64

#: Columns a record cannot do without.
REQUIRED_COLUMNS: Final[tuple[str, ...]] = (
    "licence_no",
    "licence_name",
    "holder_name",
    "holder_type",
    "contact_mobile",
    "expiry_date",
)

#: Columns that carry personal data: masked in every log, XCom, report and error message.
PERSONAL_COLUMNS: Final[frozenset[str]] = frozenset(
    {"holder_name", "holder_code", "contact_name", "contact_id_no", "contact_mobile"}
)

HOLDER_TYPES: Final[frozenset[str]] = frozenset({"org", "person"})
STATUSES: Final[frozenset[str]] = frozenset({"valid", "revoked", "cancelled"})
