"""``catalogue check`` and ``catalogue templates``: a catalogue's SMS templates before any is sent.

``templates`` prints, per catalogue entry and stage, the text to submit to each provider for
approval, its variables with their caps, and an example as a phone shows it. ``check`` fails a
catalogue whose templates a provider would refuse (a variable over its cap, two variables side
by side, 【】, more phone numbers than it takes), naming the entry, the variable and the cap, and
warns where a message would take more than two SMS with typical values, where a first reminder
would fall after the last day to apply, and where reminders link to no catalogue page.

Exit status of ``check``: 0 every template passes (warnings may be printed); 1 a catalogue fails.
"""

from __future__ import annotations

import datetime as dt
import re
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from licence_reminder.leads import EntryDates
from licence_reminder.registry import Catalogue, CatalogueEntry, RegistryError, load_catalogue
from licence_reminder.render import Licence, message_params
from licence_reminder.sms_templates import (
    MAX_SMS_LENGTH,
    PROVIDERS,
    TWO_SEGMENTS,
    VARIABLES,
    SmsTemplate,
    build,
    sms_segments,
    variable_caps,
)

#: a fixed-line or service number in a template's text (Alibaba takes at most two)
_PHONE = re.compile(r"(?<!\d)(?:0\d{2,3}-?\d{7,8}|400-?\d{3}-?\d{4}|95\d{3,6}|1[3-9]\d{9})(?!\d)")
#: Alibaba: at most this many phone numbers in a notification template
MAX_PHONES = 2
#: the expiry dates the lead rules are tried on, from the day of the check
LEAD_HORIZON_DAYS = 2 * 366
EXAMPLE_SIGN = "安阳市政务服务"


@dataclass(frozen=True)
class Gateway:
    """A provider's caps as a check applies them: documented, or a connection's own."""

    label: str
    provider: str
    caps: Mapping[str, int]


def documented_gateways(providers: list[str] | None = None) -> list[Gateway]:
    return [Gateway(p, p, variable_caps(p)) for p in (providers or list(PROVIDERS))]


def connection_gateway(conn_id: str) -> Gateway:
    from licence_reminder.db import get_airflow_connection
    from licence_reminder.gateways.factory import GatewayConfig

    cfg = GatewayConfig.from_connection(get_airflow_connection(conn_id))
    return Gateway(
        f"{cfg.provider} (connection {conn_id})",
        cfg.provider,
        variable_caps(cfg.provider, cfg.max_param_length, cfg.variable_caps),
    )


def templates_of(
    catalogue: Catalogue, catalogue_url: str | None
) -> list[tuple[CatalogueEntry, SmsTemplate]]:
    return [
        (e, build(catalogue.department, e, stage, catalogue_url=catalogue_url))
        for e in catalogue.entries
        for stage in (1, 2)
    ]


def _longest(template: SmsTemplate, entry: CatalogueEntry) -> dict[str, int | None]:
    """The longest value of each variable the catalogue itself can make (None: the data decides)."""
    out: dict[str, int | None] = {}
    for name in template.variables:
        out[name] = entry.licence_no_digits if name == "licence_no" else VARIABLES[name].max_length
    return out


def example(
    entry: CatalogueEntry, template: SmsTemplate, today: dt.date, sign_name: str = EXAMPLE_SIGN
) -> str:
    """The template filled with the variables' examples, as a phone shows it."""
    dates = EntryDates(entry)
    expiry = today + dt.timedelta(days=30 if template.stage == 1 else 7)
    for _ in range(400):  # an expiry date whose reminder of this stage falls on ``today``
        if dates.reminder_on(expiry, template.stage) >= today:
            break
        expiry += dt.timedelta(days=1)
    params = message_params(
        template,
        [
            Licence(
                "JY14105020012345",
                expiry,
                VARIABLES["holder"].example,
                VARIABLES["contact"].example,
            )
        ],
        today=today,
        deadline=dates.deadline(expiry),
        licence_no_digits=entry.licence_no_digits,
    )
    return f"【{sign_name}】{template.fill(params)}"


def template_problems(
    path: Path, entry: CatalogueEntry, template: SmsTemplate, gateways: list[Gateway]
) -> list[str]:
    where = f"{path}: entry {entry.licence_name} ({entry.entry_code}), stage {template.stage}"
    problems = [f"{where}: {p}" for p in template.problems()]
    longest = _longest(template, entry)
    for gw in gateways:
        for name in template.variables:
            cap, length = gw.caps.get(name), longest[name]
            if cap is not None and length is not None and length > cap:
                problems.append(
                    f"{where}: variable {name} can be {length} characters, over {gw.label}'s "
                    f"cap of {cap}"
                )
        if gw.provider == "aliyun":
            phones = len(_PHONE.findall(template.text()))
            if phones > MAX_PHONES:
                problems.append(
                    f"{where}: {phones} phone numbers in the text, {gw.label} takes at most "
                    f"{MAX_PHONES}"
                )
        most = template.length({n: longest[n] or gw.caps.get(n) or 50 for n in template.variables})
        if most > MAX_SMS_LENGTH:
            problems.append(
                f"{where}: up to {most} characters with the longest variables, over the "
                f"{MAX_SMS_LENGTH} a provider sends"
            )
    return problems


def lead_warnings(path: Path, entry: CatalogueEntry, today: dt.date) -> list[str]:
    dates = EntryDates(entry)
    late, inverted = [], []
    for offset in range(LEAD_HORIZON_DAYS):
        expiry = today + dt.timedelta(days=offset)
        first, deadline = dates.first_on(expiry), dates.deadline(expiry)
        if first > deadline:
            late.append((expiry, first, deadline))
        if dates.second_on(expiry) <= first:
            inverted.append(expiry)
    out = []
    if late:
        expiry, first, deadline = late[0]
        out.append(
            f"{path}: entry {entry.licence_name} ({entry.entry_code}): the first reminder falls after "
            f"the last day to apply for {len(late)} of the next {LEAD_HORIZON_DAYS} expiry dates "
            f"(expiry {expiry}: reminded {first}, deadline {deadline}): remind earlier, e.g. "
            "first_lead: {working_days: 10, before: deadline}"
        )
    if inverted:
        out.append(
            f"{path}: entry {entry.licence_name} ({entry.entry_code}): the second reminder is not after "
            f"the first for {len(inverted)} expiry dates (e.g. {inverted[0]})"
        )
    return out


def check(
    paths: list[Path],
    *,
    gateways: list[Gateway],
    catalogue_url: str | None,
    today: dt.date,
    out: TextIO | None = None,
) -> int:
    def say(line: str = "") -> None:
        print(line, file=out or sys.stdout)

    failed = False
    working_day_entries = 0
    if not catalogue_url:
        say(
            "warning: LR_CATALOGUE_URL is not set: reminders link to each entry's online_url, not to "
            "its catalogue page (materials, hall and consequences are then not one tap away)"
        )
    for path in paths:
        try:
            catalogue = load_catalogue(path)
        except RegistryError as exc:
            failed = True
            say(f"FAIL  {path}")
            for problem in exc.problems:
                say(f"      - {problem}")
            continue
        problems: list[str] = []
        warnings: list[str] = []
        for entry, template in templates_of(catalogue, catalogue_url):
            problems += template_problems(path, entry, template, gateways)
            typical = template.typical_length(entry.licence_no_digits)
            if typical > TWO_SEGMENTS:
                warnings.append(
                    f"{path}: entry {entry.licence_name} ({entry.entry_code}), stage {template.stage}: about "
                    f"{typical} characters with typical names ({sms_segments(typical)} SMS billed): "
                    + (
                        "shorten sms_consequences"
                        if template.stage == 2 and entry.sms_consequences
                        else "give sms_consequences, a few words"
                        if template.stage == 2
                        else "give a shorter page_url"
                    )
                )
        for entry in catalogue.entries:
            warnings += lead_warnings(path, entry, today)
            working_day_entries += not entry.calendar_leads
        failed = failed or bool(problems)
        checked = ", ".join(g.label for g in gateways)
        say(
            f"{'FAIL' if problems else 'ok  '}  {path}: {len(catalogue.entries)} entries, "
            f"{2 * len(catalogue.entries)} templates checked against {checked}"
        )
        for p in problems:
            say(f"      - {p}")
        for w in warnings:
            say(f"      warning: {w}")
    if working_day_entries:
        for w in schedule_warnings(today, working_day_entries):
            say(f"warning: {w}")
    return 1 if failed else 0


def schedule_warnings(today: dt.date, entries: int) -> list[str]:
    """This year's and next year's holiday schedules, when entries count working days: the
    ledger's reminder dates reach that far ahead."""
    from licence_reminder import holidays

    return [
        f"no holiday schedule for {year}: the working-day leads of {entries} entr"
        f"{'y' if entries == 1 else 'ies'} count Monday to Friday there; enter the State "
        f"Council's notice for {year} in {holidays.schedule_file()} (docs/deploy.md, "
        "'The holiday schedule')"
        for year in (today.year, today.year + 1)
        if not holidays.known(year)
    ]


def describe(
    catalogue: Catalogue, *, catalogue_url: str | None, today: dt.date, gateways: list[Gateway]
) -> list[dict[str, Any]]:
    """Per entry and stage: the template's name, its text for each provider, its variables."""
    out = []
    for entry, template in templates_of(catalogue, catalogue_url):
        sample = example(entry, template, today)
        out.append(
            {
                "department": catalogue.department,
                "entry": entry.entry_code,
                "licence_name": entry.licence_name,
                "stage": template.stage,
                "name": template.key,
                "texts": {
                    g.provider: template.text(PROVIDERS[g.provider].placeholders) for g in gateways
                },
                "variables": [
                    {
                        "name": n,
                        "meaning": VARIABLES[n].meaning,
                        "attribute": VARIABLES[n].attribute,
                        "longest": _longest(template, entry)[n],
                        "caps": {g.label: g.caps.get(n) for g in gateways},
                    }
                    for n in template.variables
                ],
                "example": sample,
                "example_length": len(sample),
                "example_segments": sms_segments(len(sample)),
            }
        )
    return out


def print_templates(items: list[dict[str, Any]], out: TextIO | None = None) -> None:
    out = out or sys.stdout
    for item in items:
        print(
            f"{item['name']}  {item['licence_name']}, stage {item['stage']} "
            f"(gateway connection: extra.templates maps this name to the approved code)",
            file=out,
        )
        width = max(len(p) for p in item["texts"])
        for provider, text in item["texts"].items():
            print(f"  {provider:<{width}}  {text}", file=out)
        for v in item["variables"]:
            caps = ", ".join(f"{g} {c}" for g, c in v["caps"].items() if c) or "none"
            longest = v["longest"] if v["longest"] is not None else "as the data has it"
            print(
                f"  ${{{v['name']}}}: {v['meaning']}; attribute {v['attribute']}; longest {longest}; "
                f"caps: {caps}",
                file=out,
            )
        print(
            f"  example ({item['example_length']} characters, {item['example_segments']} SMS): "
            f"{item['example']}",
            file=out,
        )
        print(file=out)
