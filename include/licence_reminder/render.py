"""Reminder messages (attachment 3) from Jinja templates, and SMS length rules.

SMS providers send only pre-approved templates with variables: the gateway gets the template code
and ``sms_params``; the full text rendered here is kept for the audit record (its hash) and its
length decides the billed segments and whether a provider's caps are broken.
"""

from __future__ import annotations

import datetime as dt
import functools
import math
from dataclasses import dataclass

from licence_reminder.config import TEMPLATES_DIR
from licence_reminder.errors import PermanentError

SINGLE_SMS = 70
MULTIPART_SMS = 67
MAX_SMS_LENGTH = 500


class MessageRejected(PermanentError):
    """The message breaks a provider's cap; it must not be sent as is."""


@dataclass(frozen=True)
class LicenceLine:
    licence_name: str
    expiry_date: dt.date
    renewal_deadline_days: int
    online_url: str | None
    service_hall: str | None
    service_phone: str
    materials: tuple[str, ...]
    lapse_consequences: str


def chinese_date(day: dt.date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


def sms_params(name: str, lines: list[LicenceLine], *, stage: int, today: dt.date) -> dict[str, str]:
    """Template variables, in the order the provider template declares them.

    Several licences of one holder due the same day become one message: the licences are listed,
    and the earliest expiry and deadline are the ones stated.
    """
    if not lines:
        raise ValueError("a message needs at least one licence")
    # the same licences always read the same, whatever order the database returned them in
    lines = sorted(lines, key=lambda x: (x.expiry_date, x.licence_name))
    first = min(lines, key=lambda x: x.expiry_date)
    deadline = min(x.expiry_date - dt.timedelta(days=x.renewal_deadline_days) for x in lines)
    materials: list[str] = []
    for line in lines:
        materials.extend(m for m in line.materials if m not in materials)
    params = {
        "name": name,
        "licence": "、".join(dict.fromkeys(x.licence_name for x in lines)),
        "days": str(max((first.expiry_date - today).days, 0)),
        "expiry": chinese_date(first.expiry_date),
        "deadline": chinese_date(deadline),
        "url": first.online_url or "",
        "hall": first.service_hall or "",
        "materials": "；".join(f"{i}.{m}" for i, m in enumerate(materials, 1)),
        "phone": first.service_phone,
    }
    if stage == 2:
        params["consequences"] = first.lapse_consequences
    return params


def without_links(params: dict[str, str]) -> dict[str, str]:
    """For a provider that refuses a link in a template variable: point to the service hall."""
    if not params.get("url"):
        return params
    if not params.get("hall"):
        raise MessageRejected(
            "the gateway refuses links in template variables and the catalogue entry names no "
            "service_hall to point to instead: add service_hall to the catalogue, or use a gateway "
            "template with the link written into its approved text"
        )
    return {**params, "url": ""}


@functools.cache
def _environment():  # type: ignore[no-untyped-def]
    import jinja2

    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(TEMPLATES_DIR)),
        undefined=jinja2.StrictUndefined,
        autoescape=False,
        keep_trailing_newline=False,
    )


def render(template_name: str, params: dict[str, str]) -> str:
    return _environment().get_template(f"{template_name}.txt.j2").render(**params).strip()


def sms_length(body: str, sign_name: str) -> int:
    """Characters billed: the 【signature】 the provider adds plus the text, each counting one."""
    return len(f"【{sign_name}】") + len(body)


def sms_segments(length: int) -> int:
    return 1 if length <= SINGLE_SMS else math.ceil(length / MULTIPART_SMS)


def check_sms(
    body: str, params: dict[str, str], *, sign_name: str, max_param_length: int | None = None
) -> tuple[int, int]:
    """Length and segments, or ``MessageRejected`` naming the cap broken (never the values)."""
    if "【" in body or "】" in body:
        raise MessageRejected("the template must not contain 【】: the provider adds the signature")
    length = sms_length(body, sign_name)
    if length > MAX_SMS_LENGTH:
        raise MessageRejected(f"message is {length} characters, over the {MAX_SMS_LENGTH} cap")
    if max_param_length:
        long = sorted(k for k, v in params.items() if len(v) > max_param_length)
        if long:
            raise MessageRejected(
                f"template variable(s) {long} exceed the provider's {max_param_length}-character cap"
            )
    return length, sms_segments(length)
