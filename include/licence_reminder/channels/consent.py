"""Holders' subscriptions to the mini-program's reminder template (订阅消息授权).

WeChat lets a mini-program message a holder only after the holder tapped "allow" for that
template: a **one-time** consent allows one message (a 30-day and a 7-day reminder need two), a
**long-term** one any number until withdrawn. The mini-program's back end reports each "allow" to
the intake API (:func:`record`) with the holder's openid and what ties it to licences — the
holder's credit code or ID number (``holder_code``; an ID number is kept only masked, with its
keyed digest, as the ledger keeps it) and/or the contact mobile the ledger holds —
and its own id of the event (``client_ref``), which makes the intake idempotent. A holder who
turns reminders off is :func:`revoke`\\ d.

A one-time consent is set aside for one message when the message is written (``reserved_by``),
and used up in the same transaction as that message's send record (``settle``): exactly once.
WeChat's 43101 (not subscribed, or used up) and 40003 (not this app's openid) revoke it.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from licence_reminder import protect
from licence_reminder.channels.wechat import mask_openid, valid_openid
from licence_reminder.config import local_now
from licence_reminder.db import sql
from licence_reminder.errors import PermanentError
from licence_reminder.masking import mask_id, mask_mobile

if TYPE_CHECKING:
    from sqlalchemy import Connection, Engine

KINDS = ("one_time", "long_term")
#: WeChat's answers that show our consent is gone: the holder withdrew it or it was used up
#: elsewhere (43101), or it names an openid of another app (40003)
REVOKING_CODES = {
    "43101": "WeChat answered 43101: not subscribed, or the consent was used up",
    "40003": "WeChat answered 40003: not an openid of this mini-program",
}
_MOBILE = re.compile(r"^1[3-9]\d{9}$")
_HOLDER_CODE = re.compile(r"^[0-9A-Z]{15,18}$")
_TEMPLATE_ID = re.compile(r"^[A-Za-z0-9_-]{10,64}$")
_REF = re.compile(r"^[A-Za-z0-9_.:-]{1,64}$")


class ConsentInvalid(PermanentError):
    """An intake request that cannot be recorded; the message names the field (never its value)."""


class ConsentConflict(PermanentError):
    """The caller sent the same ``client_ref`` before with different content."""


@dataclass(frozen=True)
class Consent:
    client_ref: str
    openid: str
    template_id: str
    kind: str
    #: as stored: a credit code as given; a resident ID number masked (protect.py), with its digest
    holder_code: str | None
    contact_mobile: str | None
    dept_code: str | None
    source: str
    granted_at: dt.datetime
    holder_code_digest: str | None = None

    @classmethod
    def parse(cls, data: Mapping[str, Any], *, now: dt.datetime) -> Consent:
        problems: list[str] = []

        def text(name: str, required: bool = False) -> str | None:
            value = data.get(name)
            if value is None or value == "":
                if required:
                    problems.append(f"{name}: required")
                return None
            if not isinstance(value, str):
                problems.append(f"{name}: must be a string")
                return None
            return value.strip()

        ref, openid, template = (
            text("client_ref", True),
            text("openid", True),
            text("template_id", True),
        )
        kind = text("kind") or "one_time"
        holder = (text("holder_code") or "").upper() or None
        mobile = re.sub(r"^(?:\+?86)|[\s-]", "", text("contact_mobile") or "") or None
        dept, source = text("dept_code"), text("source") or "miniprogram"
        if ref and not _REF.fullmatch(ref):
            problems.append("client_ref: 1-64 letters, digits or _.:-")
        if openid and not valid_openid(openid):
            problems.append("openid: not an openid (20-64 letters, digits, _ or -)")
        if template and not _TEMPLATE_ID.fullmatch(template):
            problems.append("template_id: not a WeChat template id")
        if kind not in KINDS:
            problems.append(f"kind: one of {list(KINDS)}")
        if holder and not _HOLDER_CODE.fullmatch(holder):
            problems.append("holder_code: an 18-character credit code or ID number")
        if mobile and not _MOBILE.fullmatch(mobile):
            problems.append("contact_mobile: an 11-digit mainland mobile")
        if not holder and not mobile:
            problems.append(
                "holder_code or contact_mobile: at least one, to tie the consent to licences"
            )
        if dept and not re.fullmatch(r"[a-z][a-z0-9_]{1,31}", dept):
            problems.append("dept_code: a department code")
        if len(source) > 64:
            problems.append("source: at most 64 characters")
        granted = now
        if data.get("granted_at"):
            try:
                granted = dt.datetime.fromisoformat(str(data["granted_at"]))
            except ValueError:
                problems.append("granted_at: an ISO 8601 time, e.g. 2026-11-24T10:31:00+08:00")
            else:
                if granted.tzinfo is not None:  # stored as every time is: the city's, naive
                    from zoneinfo import ZoneInfo

                    from licence_reminder.config import city_zone

                    granted = granted.astimezone(ZoneInfo(city_zone())).replace(tzinfo=None)
                granted = granted.replace(microsecond=0)
                if granted > now + dt.timedelta(minutes=5):
                    problems.append("granted_at: in the future")
        if problems:
            raise ConsentInvalid("; ".join(problems))
        assert ref and openid and template
        digest = None
        if holder and protect.ID_SHAPED.fullmatch(
            holder
        ):  # a person's: kept as the ledger keeps it
            holder, digest = mask_id(holder), protect.key_ring().digest(holder)
        return cls(ref, openid, template, kind, holder, mobile, dept, source, granted, digest)

    def same_as(self, row: Any) -> bool:
        return (
            row.openid,
            row.template_id,
            row.kind,
            row.holder_code,
            row.holder_code_digest,
            row.contact_mobile,
            row.dept_code,
        ) == (
            self.openid,
            self.template_id,
            self.kind,
            self.holder_code,
            self.holder_code_digest,
            self.contact_mobile,
            self.dept_code,
        )


def shown(row: Any) -> dict[str, Any]:
    """A consent as the API answers about it: openid, code and mobile masked."""
    return {
        "id": int(row.id),
        "client_ref": row.client_ref,
        "openid": mask_openid(row.openid),
        "template_id": row.template_id,
        "kind": row.kind,
        "holder_code": mask_id(row.holder_code) if row.holder_code else None,
        "contact_mobile": mask_mobile(row.contact_mobile) if row.contact_mobile else None,
        "dept_code": row.dept_code,
        "source": row.source,
        "status": row.status,
        "granted_at": _iso(row.granted_at),
        "used_at": _iso(row.used_at),
        "revoked_at": _iso(row.revoked_at),
        "revoked_reason": row.revoked_reason,
    }


def _iso(value: Any) -> str | None:
    return None if value is None else str(value).replace(" ", "T")[:19]


def record(engine: Engine, client_id: str, data: Mapping[str, Any]) -> tuple[dict[str, Any], bool]:
    """Record one consent; (the consent as stored, whether this call created it). The same
    ``client_ref`` again with the same content is answered with the stored one (idempotent);
    with other content it is :class:`ConsentConflict`."""
    now = local_now()
    consent = Consent.parse(data, now=now)
    with engine.begin() as conn:
        created = (
            conn.execute(
                sql("consent_insert", conn),
                {
                    "client_id": client_id,
                    "client_ref": consent.client_ref,
                    "openid": consent.openid,
                    "template_id": consent.template_id,
                    "kind": consent.kind,
                    "holder_code": consent.holder_code,
                    "holder_code_digest": consent.holder_code_digest,
                    "contact_mobile": consent.contact_mobile,
                    "dept_code": consent.dept_code,
                    "source": consent.source,
                    "granted_at": consent.granted_at,
                    "now": now,
                },
            ).rowcount
            == 1
        )
        row = conn.execute(
            sql("consent_get", conn), {"client_id": client_id, "client_ref": consent.client_ref}
        ).one()
    if not created and not consent.same_as(row):
        raise ConsentConflict(
            f"client_ref {consent.client_ref!r} was recorded before with other content "
            "(openid, template, kind, holder code, mobile or department): send a new client_ref "
            "for a new consent"
        )
    return shown(row), created


def get(engine: Engine, client_id: str, client_ref: str) -> dict[str, Any] | None:
    with engine.connect() as conn:
        row = conn.execute(
            sql("consent_get", conn), {"client_id": client_id, "client_ref": client_ref}
        ).first()
    return None if row is None else shown(row)


def revoke(engine: Engine, client_id: str, data: Mapping[str, Any]) -> int:
    """Withdraw consents: one by ``client_ref``, or every consent of an ``openid`` (to one
    ``template_id`` if given) — the holder turned the reminders off. Idempotent: the number of
    consents this call withdrew."""
    ref, openid, template = data.get("client_ref"), data.get("openid"), data.get("template_id")
    if not ref and not openid:
        raise ConsentInvalid("client_ref or openid: one is required")
    if openid and not (isinstance(openid, str) and valid_openid(openid)):
        raise ConsentInvalid("openid: not an openid")
    reason = str(data.get("reason") or "withdrawn by the holder")[:200]
    with engine.begin() as conn:
        return conn.execute(
            sql("consent_revoke", conn),
            {
                "client_id": client_id,
                "client_ref": ref,
                "openid": openid,
                "template_id": template,
                "reason": reason,
                "now": local_now(),
            },
        ).rowcount


def reserve(conn: Connection, consent_id: int, message_id: str, now: dt.datetime) -> bool:
    """Set a one-time consent aside for ``message_id`` unless a message still on its way holds it."""
    return (
        conn.execute(
            sql("consent_reserve", conn), {"id": consent_id, "message_id": message_id, "now": now}
        ).rowcount
        == 1
    )


def settle(conn: Connection, outcomes: list[dict[str, Any]]) -> None:
    """In the send record's transaction: a one-time consent whose message WeChat accepted is used
    up; one WeChat says is gone is revoked. Only where the message's own record was written."""
    used = [o for o in outcomes if o["status"] == "sent"]
    gone = [
        {**o, "reason": REVOKING_CODES[o["code"]]}
        for o in outcomes
        if o["status"] == "call_list" and o.get("code") in REVOKING_CODES
    ]
    if used:
        conn.execute(sql("consent_used", conn), used)
    if gone:
        conn.execute(sql("consent_refused", conn), gone)
