"""A reminder's variables, by rules that keep its text true on the day it arrives.

The text itself is the catalogue entry's template (``sms_templates``); what is worked out here per
message, on the day it is written and sent (a message not sent that day is written again):

- No past date is stated but the expiry: a renewal deadline already gone reads "尽快" (今日内 on
  the day itself), and ``days`` counts from the sending day.
- One message covers licences of one holder, one catalogue entry and one expiry date (so one
  template, service phone and page, and the expiry stated is every licence's own); with the
  licence number shown, each licence appears by its number's tail.
- The holder (证照持有单位) is named and the contact greeted: 用户 when the contact's name is
  unknown (or too long for the gateway), 您 as the holder when it is the contact or unknown.

The gateway gets the template code and these variables; the full text is kept for the audit
record (its hash) and its length decides the billed segments.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from licence_reminder.errors import PermanentError
from licence_reminder.sms_templates import MAX_SMS_LENGTH, SmsTemplate, sms_length, sms_segments

#: the greeting and the holder when the ledger has no usable name
ANONYMOUS_CONTACT = "用户"
HOLDER_IS_READER = "您"


class MessageRejected(PermanentError):
    """The message breaks a provider's cap; it must not be sent as is."""


@dataclass(frozen=True)
class Licence:
    """One licence a message is about."""

    licence_no: str
    expiry_date: dt.date
    holder_name: str | None
    contact_name: str | None


def chinese_date(day: dt.date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


def apply_by(deadline: dt.date, today: dt.date) -> str:
    """When to apply, as the message says it on ``today``: never a day already gone."""
    if deadline > today:
        return f"{chinese_date(deadline)}前"
    return "今日内" if deadline == today else "尽快"


def licence_tail(licence_no: str, digits: int) -> str:
    return re.sub(r"\s", "", licence_no)[-digits:]


def _name(value: str | None) -> str:
    return re.sub(r"\s+", " ", value or "").strip()


def message_params(
    template: SmsTemplate,
    licences: Sequence[Licence],
    *,
    today: dt.date,
    deadline: dt.date,
    licence_no_digits: int | None = None,
    caps: Mapping[str, int] | None = None,
) -> dict[str, str]:
    """The template's variables for ``licences`` (one holder, entry and expiry date), in the
    template's order, each within ``caps`` (variable -> longest value the gateway takes).

    ``MessageRejected`` names the variable and the cap it breaks, never the value.
    """
    if not licences:
        raise ValueError("a message needs at least one licence")
    expiries = {x.expiry_date for x in licences}
    if len(expiries) != 1:
        raise ValueError(f"one message states one expiry date; these licences have {len(expiries)}")
    (expiry,) = expiries
    if expiry < today:
        raise ValueError("an expired licence is not reminded")
    caps = caps or {}
    head = licences[0]
    contact, holder = _name(head.contact_name), _name(head.holder_name)
    if not contact or len(contact) > caps.get("contact", len(contact)):
        contact = ANONYMOUS_CONTACT  # a greeting is no reason to fall back to a phone call
    if not holder or holder == _name(head.contact_name):
        holder = HOLDER_IS_READER
    numbers = sorted(licence_tail(x.licence_no, licence_no_digits or 6) for x in licences)
    values = {
        "contact": contact,
        "holder": holder,
        "licence_no": "、".join(numbers),
        "expiry": chinese_date(expiry),
        "days": str((expiry - today).days),
        "apply_by": apply_by(deadline, today),
    }
    params = {name: values[name] for name in template.variables}
    long = [
        f"{k} ({len(v)} characters, cap {caps[k]})"
        for k, v in params.items()
        if k in caps and len(v) > caps[k]
    ]
    if long:
        raise MessageRejected(
            f"template {template.key}: variable(s) over the gateway's cap: " + ", ".join(long)
        )
    return params


def check_sms(body: str, *, sign_name: str) -> tuple[int, int]:
    """Length and segments, or ``MessageRejected`` naming the rule broken (never the values)."""
    if "【" in body or "】" in body:
        raise MessageRejected("the message must not contain 【】: the provider adds the signature")
    length = sms_length(body, sign_name)
    if length > MAX_SMS_LENGTH:
        raise MessageRejected(f"message is {length} characters, over the {MAX_SMS_LENGTH} cap")
    return length, sms_segments(length)
