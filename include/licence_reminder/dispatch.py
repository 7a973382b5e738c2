"""The city-wide dispatch: plan → render into the outbox → send exactly once → audit.

Exactly once rests on three things:
1. ``reminder`` has a unique key (licence, expiry date, stage, channel): planning is idempotent.
2. A message is written to ``outbox_message`` before any gateway call, and claimed (``sending``,
   committed) before the call; its id goes to the provider as OutId / SessionContext.
3. A message found ``sending`` or ``unknown`` (crash between call and record, or a timeout after
   the request left) is resolved by asking the provider, never by sending it again blind; when the
   provider cannot tell (no receipt yet, no status API) it goes to the call list for a person.
4. One sender per shard at a time (:class:`ShardLease`): a sender takes the shard's lease (a new
   epoch) first, checks it before every gateway call and claims and records only under it. A
   sender still running after it was taken over (an orphaned task process whose Celery worker
   died, while Airflow's retry runs) stops before its next call; the new holder looks up what the
   old one had claimed only after the longest call it could still have in flight
   (docs/adr/0201-send-shard-lease.md).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import os
import random
import socket
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from licence_reminder.config import local_now
from licence_reminder.db import sql
from licence_reminder.errors import PermanentError, TransientError
from licence_reminder.gateways.base import LookupResult
from licence_reminder.masking import mask_mobile
from licence_reminder.policy import (
    NEVER,
    PENDING_STATUSES,
    WITHDRAWN,
    WITHDRAWN_REASONS,
    LicenceState,
    Policy,
    decide,
    next_check,
)
from licence_reminder.registry import CatalogueEntry
from licence_reminder.render import Licence, MessageRejected, check_sms, message_params

if TYPE_CHECKING:
    from sqlalchemy import Connection, Engine

    from licence_reminder.failover import Route, Router
    from licence_reminder.gateways.base import SendResult, SmsGateway
    from licence_reminder.gateways.factory import GatewayConfig

log = logging.getLogger(__name__)

CHANNEL = "sms"
MAX_ATTEMPTS = 6
BOOKKEEPING_BATCH = 200
#: a message every connection of which is switched off is looked at again this much later
HOLD_SWITCHED_OFF = dt.timedelta(minutes=1)


def as_date(v: Any) -> dt.date | None:
    if v is None or isinstance(v, dt.date) and not isinstance(v, dt.datetime):
        return v
    if isinstance(v, dt.datetime):
        return v.date()
    return dt.date.fromisoformat(str(v)[:10])


# --------------------------------------------------------------------------- plan
#: reminders of this many cycles are read per statement
PLAN_READ_BATCH = 2000


def plan(
    engine: Engine, *, today: dt.date, run_id: str, policy: Policy | None = None
) -> dict[str, int]:
    """Insert the reminders due on ``today`` and cancel those the policy withdraws. Idempotent.

    Each channel of the catalogue entry's policy (``channels.policy``) is decided on its own, from
    its own reminders of the cycle: the unique key (licence, expiry date, stage, channel) holds
    one reminder per channel and stage. A channel the entry no longer names keeps no pending
    reminder.

    Only the cycles that can need something today are read (docs/adr/0504-planner-next-check.md):
    those whose ``next_check_on`` is NULL (a sync wrote them since the last look) or a reminder day
    now due, and those of an entry whose channel policy changed. Each looked-at cycle is given the
    day of its next look; cycles in that range the planner does not plan for (revoked, gone,
    expired) are parked until a sync changes them."""
    policy = policy or Policy()
    from sqlalchemy import bindparam

    from licence_reminder.channels.policy import ChannelPolicy

    due_by = policy.due_through(today)
    args = {"today": today, "due_by": due_by}
    counts: Counter[str] = Counter()
    with engine.begin() as conn:
        changed = list(conn.execute(sql("plan_policies_changed", conn)))
        candidates = {r.id: r for r in conn.execute(sql("dispatch_candidates", conn), args)}
        for entry in changed:
            of_entry = sql("dispatch_candidates_of_entry", conn)
            entry_args = {**args, "dept_code": entry.dept_code, "licence_name": entry.licence_name}
            candidates.update((r.id, r) for r in conn.execute(of_entry, entry_args))
        existing: dict[tuple[int, str], dict[int, str]] = defaultdict(dict)
        channels_of: dict[int, list[str]] = defaultdict(list)
        of_ids = sql("dispatch_existing_reminders", conn).bindparams(
            bindparam("ids", expanding=True)
        )
        ids = list(candidates)
        for i in range(0, len(ids), PLAN_READ_BATCH):
            for r in conn.execute(of_ids, {"ids": ids[i : i + PLAN_READ_BATCH]}):
                withdrawn = r.status == "cancelled" and r.status_reason in WITHDRAWN_REASONS
                existing[r.ledger_id, r.channel][int(r.stage)] = (
                    WITHDRAWN if withdrawn else r.status
                )
                channels_of[r.ledger_id].append(r.channel)
        inserts, reopens, cancels, checks = [], [], [], []
        now = local_now()
        policies: dict[str | None, ChannelPolicy] = {}
        for r in candidates.values():
            expiry = as_date(r.expiry_date)
            assert expiry is not None
            if r.first_lead_days is None:  # its catalogue entry is gone: nothing to decide on
                continue
            if r.channels not in policies:
                policies[r.channels] = ChannelPolicy.from_mirror(r.channels)
            channels = policies[r.channels]
            state = LicenceState(
                ledger_id=r.id,
                expiry_date=expiry,
                status=r.status,
                vanished=r.vanished_at is not None,
                renewal_applied_on=as_date(r.renewal_applied_on),
                first_lead_days=r.first_lead_days,
                second_lead_days=r.second_lead_days,
                first_on=as_date(r.first_reminder_on),
                second_on=as_date(r.second_reminder_on),
            )
            following = next_check(state, due_by)
            if following != as_date(r.next_check_on):
                checks.append(
                    {
                        "id": r.id,
                        "next_check_on": following,
                        "seen_updated_at": r.updated_at,
                        "seen_first": r.first_reminder_on,
                        "seen_second": r.second_reminder_on,
                        "seen_next": r.next_check_on,
                    }
                )
            for channel in dict.fromkeys((*channels.used(), *channels_of.get(r.id, ()))):
                reminders = existing.get((r.id, channel), {})
                key = {"ledger_id": r.id, "expiry_date": expiry, "channel": channel, "now": now}
                if channel not in channels.used():
                    cancels.extend(
                        {
                            **key,
                            "stage": stage,
                            "reason": "channel no longer in the catalogue's policy",
                        }
                        for stage, status in reminders.items()
                        if status in PENDING_STATUSES
                    )
                    continue
                decision = decide(replace(state, reminders=reminders), today, policy)
                for stage, reason in decision.cancel:
                    cancels.append({**key, "stage": stage, "reason": reason})
                if decision.plan is not None and channel in channels.at(decision.plan):
                    row = {
                        **key,
                        "dept_code": r.dept_code,
                        "licence_no": r.licence_no,
                        "cycle": r.cycle,
                        "stage": int(decision.plan),
                        "due_on": decision.due_on,
                        "run_id": run_id,
                        "status": "planned",
                    }
                    withdrawn = reminders.get(int(decision.plan)) == WITHDRAWN
                    (reopens if withdrawn else inserts).append(row)
        if cancels:
            counts["cancelled"] = conn.execute(sql("reminder_cancel", conn), cancels).rowcount
        if inserts:
            counts["planned"] = conn.execute(sql("reminder_insert", conn), inserts).rowcount
        if reopens:  # the unique key (licence, expiry date, stage, channel) holds the withdrawn row
            counts["planned"] += conn.execute(sql("reminder_reopen", conn), reopens).rowcount
        _record_next_checks(conn, checks)
        conn.execute(sql("plan_park", conn), {**args, "never": NEVER})
        for entry in changed:
            conn.execute(sql("plan_policy_checked", conn), entry._asdict())
    return dict(counts)


def _record_next_checks(conn: Connection, checks: list[dict[str, Any]]) -> None:
    """Write the next check days, guarded against rows a sync changed meanwhile (it sets
    ``next_check_on`` back to NULL). A cycle the planner had given a day (the day's usual work)
    keeps the new one only if that day is still there: one UPDATE per (seen day, next day) pair
    over its ids. A cycle it had not (NULL: new, or changed by a sync) is compared on everything
    the decision read, through a temporary table."""
    from sqlalchemy import bindparam

    if not checks:
        return
    by_days: dict[tuple[Any, dt.date], list[int]] = defaultdict(list)
    unseen = []
    for c in checks:
        if c["seen_next"] is None:
            unseen.append(c)
        else:
            by_days[c["seen_next"], c["next_check_on"]].append(c["id"])
    advance = sql("plan_next_check_advance", conn).bindparams(bindparam("ids", expanding=True))
    for (seen, following), ids in by_days.items():
        for i in range(0, len(ids), PLAN_READ_BATCH):
            conn.execute(
                advance,
                {
                    "ids": ids[i : i + PLAN_READ_BATCH],
                    "seen_next": seen,
                    "next_check_on": following,
                },
            )
    if not unseen:
        return
    conn.execute(sql("plan_next_check_create", conn))
    conn.execute(sql("plan_next_check_clear", conn))
    for i in range(0, len(unseen), PLAN_READ_BATCH):
        conn.execute(sql("plan_next_check_insert", conn), unseen[i : i + PLAN_READ_BATCH])
    conn.execute(sql("plan_next_check_apply", conn))
    conn.execute(sql("plan_next_check_drop", conn))


# --------------------------------------------------------------------------- render
@dataclass(frozen=True)
class GatewayProfile:
    """What rendering needs of a gateway: resolved once per connection id."""

    conn_id: str
    provider: str
    sign_name: str
    #: template name (``<department>.<entry code>.stage<n>``) -> the provider's approved code;
    #: empty: the names are the codes (the simulator, a platform that takes them as they are)
    templates: dict[str, str]
    #: variable -> the longest value the gateway takes (sms_templates.variable_caps)
    caps: dict[str, int] = field(default_factory=dict)

    @classmethod
    def of(cls, cfg: GatewayConfig) -> GatewayProfile:
        from licence_reminder.sms_templates import variable_caps

        return cls(
            conn_id=cfg.conn_id,
            provider=cfg.provider,
            sign_name=cfg.sign_name,
            templates=dict(cfg.templates),
            caps=variable_caps(cfg.provider, cfg.max_param_length, cfg.variable_caps),
        )


def entry_from_mirror(row: Any) -> CatalogueEntry:
    """The catalogue entry as the ledger database mirrors it (sync.register_department)."""
    data: dict[str, Any] = {
        k: getattr(row, k)
        for k in (
            "licence_name",
            "approval_item",
            "office",
            "statutory_validity",
            "renewal_window",
            "online_url",
            "service_hall",
            "service_phone",
            "lapse_consequences",
            "code",
            "page_url",
            "licence_no_digits",
            "sms_consequences",
        )
    }
    data["materials"] = json.loads(row.materials)
    if row.lead_rule:
        rule = json.loads(row.lead_rule)
        data.update(first_lead=rule["first"], second_lead=rule["second"])
        deadline = rule["deadline"]
        if deadline.get("working_days") is not None:
            data["renewal_deadline_working_days"] = deadline["working_days"]
        else:
            data["renewal_deadline_days"] = deadline["days"]
    else:
        data.update(
            first_lead_days=row.first_lead_days,
            second_lead_days=row.second_lead_days,
            renewal_deadline_days=row.renewal_deadline_days,
        )
    return CatalogueEntry.model_validate(data)


def group_reminders(rows: list[Any], *, group_by_holder: bool = True) -> list[list[Any]]:
    """The reminders each message is about. Grouped: those sent to one mobile at one stage about
    one holder's licences of one catalogue entry expiring on one day (docs/adr/0102), so one
    template, page, service phone and expiry date are true of every licence in the message, and
    only where the entry's messages state licence numbers: a message must not read as one licence
    when it is about several."""
    groups: dict[tuple, list[Any]] = defaultdict(list)
    for r in rows:
        together = group_by_holder and r.licence_no_digits is not None
        key = (
            (
                r.dept_code,
                r.contact_mobile,
                r.stage,
                r.licence_name,
                as_date(r.expiry_date),
                r.holder_name,
            )
            if together
            else (r.reminder_id,)
        )
        groups[key].append(r)
    return [sorted(g, key=lambda m: m.licence_no) for g in groups.values()]


def _chunks(members: list[Any], size: int) -> list[list[Any]]:
    return [members[i : i + size] for i in range(0, len(members), size)]


def render_outbox(
    engine: Engine,
    *,
    today: dt.date,
    run_id: str,
    profile_for: Callable[[str], GatewayProfile],
    group_by_holder: bool = True,
    shards: int = 1,
    catalogue_url: str | None = None,
) -> dict[str, Any]:
    """Turn planned reminders into outbox messages, each from its catalogue entry's template.

    Grouped, one message covers a holder's licences of one catalogue entry and expiry date sent
    to one mobile (at most MAX_LICENCES_PER_MESSAGE, and as many numbers as the gateway's cap
    takes): docs/adr/0102-grouping-reminders.md. ``catalogue_url``: where ``catalogue publish``'s
    pages are served (LR_CATALOGUE_URL), the link the templates give.

    A department whose gateway connection cannot be used (not defined, incomplete) is held: its
    reminders stay planned, to be rendered by the first run after the connection is fixed, and
    ``held`` names it with the reason; so are the reminders of a template the connection has no
    approved code for. Every other message goes out as usual.
    """
    from licence_reminder.leads import EntryDates
    from licence_reminder.sms_templates import MAX_LICENCES_PER_MESSAGE, SmsTemplate, build

    counts: Counter[str] = Counter()
    profiles: dict[str, GatewayProfile] = {}
    held: dict[str, str] = {}
    unapproved: dict[str, set[str]] = defaultdict(set)
    entries: dict[tuple[str, str], tuple[CatalogueEntry, EntryDates]] = {}
    templates: dict[tuple[str, str, int], SmsTemplate] = {}
    with engine.begin() as conn:
        stale = {"today_start": dt.datetime.combine(today, dt.time()), "now": local_now()}
        conn.execute(sql("reminder_requeue_stale", conn), stale)
        superseded = conn.execute(sql("outbox_supersede_stale", conn), stale).rowcount
        if superseded:
            counts["superseded"] = superseded
        rows = list(conn.execute(sql("dispatch_to_render", conn), {"channel": CHANNEL}))
        now = local_now()
        messages, queued, rejected = [], [], []
        for group in group_reminders(rows, group_by_holder=group_by_holder):
            head = group[0]
            if (why := unusable_mobile(head.contact_mobile)) is not None:  # a call task, today
                rejected.extend(
                    {"reminder_id": m.reminder_id, "reason": f"no usable mobile: {why}", "now": now}
                    for m in group
                )
                counts["no_usable_mobile"] += len(group)
                continue
            if head.dept_code in held:
                counts["reminders_held"] += len(group)
                continue
            if head.dept_code not in profiles:
                try:
                    profiles[head.dept_code] = profile_for(head.dept_code)
                except Exception as exc:  # noqa: BLE001 - whatever the connection's fault, hold only its department
                    held[head.dept_code] = f"{type(exc).__name__}: {exc}"
                    counts["reminders_held"] += len(group)
                    continue
            profile = profiles[head.dept_code]
            if (head.dept_code, head.licence_name) not in entries:
                entry = entry_from_mirror(head)
                entries[head.dept_code, head.licence_name] = entry, EntryDates(entry)
            entry, dates = entries[head.dept_code, head.licence_name]
            which = (head.dept_code, head.licence_name, int(head.stage))
            if which not in templates:
                templates[which] = build(
                    head.dept_code, entry, head.stage, catalogue_url=catalogue_url
                )
            template = templates[which]
            template_code = profile.templates.get(
                template.key, template.key if not profile.templates else None
            )
            if template_code is None:  # never send a text the provider has not approved
                unapproved[head.dept_code].add(template.key)
                counts["reminders_held"] += len(group)
                continue
            size = MAX_LICENCES_PER_MESSAGE
            if "licence_no" in template.variables and "licence_no" in profile.caps:
                size = min(
                    size, max(1, (profile.caps["licence_no"] + 1) // (entry.licence_no_digits + 1))
                )
            expiry = as_date(head.expiry_date)
            assert expiry is not None
            for members in _chunks(group, size):
                licences = [
                    Licence(m.licence_no, expiry, m.holder_name, m.contact_name) for m in members
                ]
                try:
                    params = message_params(
                        template,
                        licences,
                        today=today,
                        deadline=dates.deadline(expiry),
                        licence_no_digits=entry.licence_no_digits,
                        caps=profile.caps,
                    )
                    body = template.fill(params)
                    length, segments = check_sms(body, sign_name=profile.sign_name)
                except MessageRejected as exc:
                    rejected.extend(
                        {"reminder_id": m.reminder_id, "reason": str(exc), "now": now}
                        for m in members
                    )
                    continue
                message_id = uuid.uuid4().hex
                messages.append(
                    {
                        "id": message_id,
                        "dept_code": head.dept_code,
                        "channel": CHANNEL,
                        "gateway": profile.provider,
                        "gateway_conn_id": profile.conn_id,
                        "recipient": head.contact_mobile,
                        "recipient_masked": mask_mobile(head.contact_mobile),
                        "template_name": template.key,
                        "template_code": template_code,
                        "params": json.dumps(params, ensure_ascii=False),
                        "body": body,
                        "body_sha256": hashlib.sha256(body.encode("utf-8")).hexdigest(),
                        "body_length": length,
                        "segments": segments,
                        "shard": random.randrange(shards),
                        "status": "pending",
                        "attempts": 0,
                        "run_id": run_id,
                        "now": now,
                    }
                )
                queued.extend(
                    {"reminder_id": m.reminder_id, "message_id": message_id, "now": now}
                    for m in members
                )
        if messages:
            conn.execute(sql("outbox_insert", conn), messages)
            conn.execute(sql("reminder_queue", conn), queued)
        if rejected:
            conn.execute(sql("reminder_reject", conn), rejected)
        counts.update(messages=len(messages), reminders_queued=len(queued), rejected=len(rejected))
    for dept, keys in unapproved.items():
        conn_id = profiles[dept].conn_id
        held[dept] = (
            f"gateway connection {conn_id!r} has no approved template code for "
            f"{', '.join(sorted(keys))} in extra.templates: submit the text "
            "`catalogue templates` prints, then map each name to its code"
        )
    return {**counts, "held": held} if held else dict(counts)


def unusable_mobile(mobile: str | None) -> str | None:
    """Why a ledger's mobile cannot take an SMS (never quoting it), or None when it can: a licence
    loaded with a missing or malformed mobile is a call task on its reminder day."""
    import re

    from licence_reminder.validation.rules import MOBILE_PATTERN, mobile_problem

    if not mobile:
        return "the department's record has no mobile number"
    return None if re.fullmatch(MOBILE_PATTERN, mobile) else mobile_problem(mobile)


# --------------------------------------------------------------------------- send
class RateLimiter:
    """``rate`` calls a second, evenly spaced on a fixed schedule (0 or None: unlimited).

    Call k is due at start + k / rate. A caller that falls behind — a batch's bookkeeping, a slow
    reply — makes the lost time up by calling back to back, for at most ``max_lag`` seconds'
    worth of calls: the rate holds over a run (restarting the schedule after every late call lost
    3-15% here), and a long pause never turns into a flood (no second sees more than
    ``(1 + max_lag) * rate + 1`` calls).
    """

    def __init__(
        self,
        rate: float | None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        max_lag: float = 0.05,
    ) -> None:
        self.interval = 1.0 / rate if rate else 0.0
        self.max_lag = max_lag
        self.clock, self.sleep = clock, sleep
        self.next_at: float | None = None

    def wait(self) -> None:
        if not self.interval:
            return
        now = self.clock()
        self.next_at = now if self.next_at is None else max(self.next_at, now - self.max_lag)
        if self.next_at > now:
            self.sleep(self.next_at - now)
        self.next_at += self.interval


def backoff_seconds(attempts: int, *, rate_limited: bool = False) -> int:
    base = 60 if rate_limited else 2
    return min(base * 2 ** max(attempts - 1, 0), 3600)


@dataclass
class _Book:
    """Outcomes of a batch of calls, written in one transaction."""

    outbox: list[dict] = field(default_factory=list)
    attempts: list[dict] = field(default_factory=list)
    reminders: list[dict] = field(default_factory=list)
    #: mini-program messages' consents: used up or revoked with their record (channels.consent)
    consents: list[dict] = field(default_factory=list)

    def flush(self, engine: Engine) -> None:
        """Three statements for the whole batch: PyMySQL turns the INSERT's executemany into one
        multi-row INSERT, and the updates take the batch as one JSON array (an executemany of
        UPDATEs would be a round trip per message)."""
        if not (self.outbox or self.attempts):
            return
        with engine.begin() as conn:
            if self.attempts:
                conn.execute(sql("attempt_insert", conn), self.attempts)
            if self.outbox:
                conn.execute(sql("outbox_record", conn), {"outcomes": _json_rows(self.outbox)})
            if self.reminders:
                conn.execute(
                    sql("reminder_follow_message", conn), {"outcomes": _json_rows(self.reminders)}
                )
            if self.consents:
                from licence_reminder.channels.consent import settle

                settle(conn, self.consents)
        self.outbox, self.attempts, self.reminders, self.consents = [], [], [], []


def _json_rows(rows: list[dict]) -> str:
    """Rows as a JSON array for a batch statement; datetimes as the databases' own text form."""

    def encode(v: object) -> str:
        if isinstance(v, dt.datetime):
            return v.isoformat(sep=" ")
        raise TypeError(f"{type(v).__name__} is not JSON serialisable")

    return json.dumps(
        [{k: v for k, v in r.items() if v is not None} for r in rows],
        ensure_ascii=False,
        default=encode,
    )


def sms_message(row: Any) -> Any:
    from licence_reminder.gateways.base import SmsMessage

    return SmsMessage(
        message_id=row.id,
        mobile=row.recipient,
        template_code=row.template_code,
        params=json.loads(row.params),
    )


def attempt_row(
    row: Any,
    *,
    kind: str,
    outcome: str,
    result: Any,
    attempt_no: int,
    started: dt.datetime,
    finished: dt.datetime,
    run_id: str,
    gateway: str,
    detail: str | None = None,
) -> dict[str, Any]:
    """One append-only ``delivery_attempt`` row: a call, a look-up, a carrier report or a failover,
    naming the connection the message goes through."""
    return {
        "message_id": row.id,
        "attempt_no": attempt_no,
        "kind": kind,
        "dept_code": row.dept_code,
        "channel": getattr(row, "channel", None) or CHANNEL,
        "gateway": gateway,
        "started_at": started,
        "finished_at": finished,
        "outcome": outcome,
        "response_code": getattr(result, "code", None),
        "http_status": getattr(result, "http_status", None),
        "provider_message_id": getattr(result, "provider_message_id", None),
        "request_id": getattr(result, "request_id", None),
        "recipient_masked": row.recipient_masked,
        "body_sha256": row.body_sha256,
        "run_id": run_id,
        "gateway_conn_id": getattr(row, "gateway_conn_id", None),
        "detail": detail and detail[:500],
    }


def _record(
    book: _Book,
    row: Any,
    *,
    status: str,
    kind: str,
    outcome: str,
    result: Any,
    started: dt.datetime,
    run_id: str,
    gateway: str,
    epoch: int | None,
    next_at: dt.datetime | None = None,
    reason: str | None = None,
) -> None:
    """Notes one outcome; ``epoch`` is the lease epoch the message was claimed under (the record
    is written only while the message is still in doubt under that claim)."""
    now = local_now()
    sent_at = now if status == "sent" else None
    provider_id = getattr(result, "provider_message_id", None)
    code = getattr(result, "code", None)
    book.outbox.append(
        {
            "id": row.id,
            "status": status,
            "next_attempt_at": next_at,
            "provider_message_id": provider_id,
            "last_code": code,
            "last_message": (getattr(result, "message", None) or reason or "")[:500],
            "sent_at": sent_at,
            "now": now,
            "epoch": epoch,
        }
    )
    book.attempts.append(
        attempt_row(
            row,
            kind=kind,
            outcome=outcome,
            result=result,
            attempt_no=row.attempts + (1 if kind == "send" else 0),
            started=started,
            finished=now,
            run_id=run_id,
            gateway=gateway,
        )
    )
    if status in {"sent", "call_list", "failed"}:
        book.reminders.append(
            {"message_id": row.id, "status": status, "reason": reason, "now": now}
        )
        if getattr(row, "consent_id", None) is not None:
            book.consents.append(
                {
                    "consent_id": row.consent_id,
                    "message_id": row.id,
                    "status": status,
                    "code": code,
                    "now": now,
                }
            )


def recover(
    engine: Engine,
    gateways: Callable[[str], SmsGateway],
    *,
    shard: int,
    run_id: str,
    lease: ShardLease | None = None,
) -> dict[str, int]:
    """Resolve messages left in doubt by asking their provider; never resend blind. With a
    ``lease``, stops (raising :class:`SenderSuperseded`) once another sender holds the shard."""
    counts: Counter[str] = Counter()
    book = _Book()
    with engine.connect() as conn:
        rows = list(conn.execute(sql("outbox_in_doubt", conn), {"shard": shard}))
    for row in rows:
        if lease is not None:
            lease.check()
        gw = gateways(row.gateway_conn_id)
        started = local_now()
        # claimed (or recorded in doubt) just before or after the call: the provider's send date
        claimed = as_date(row.updated_at)
        try:
            found = gw.lookup(sms_message(row), claimed)
        except TransientError as exc:
            log.warning("message %s stays in doubt, asked again next time: %s", row.id, exc)
            counts["lookup_failed"] += 1
            continue
        if not found.found and found.conclusive and _pushed_report_for(engine, row.id):
            # the look-up raced the provider's own records; its pushed report proves it accepted
            found = LookupResult(found=True, code="pushed report")
        if found.found:
            _record(
                book,
                row,
                status="sent",
                kind="lookup",
                outcome="recovered",
                result=found,
                started=started,
                run_id=run_id,
                gateway=gw.name,
                epoch=row.claim_epoch,
            )
            counts["recovered_sent"] += 1
        elif found.conclusive:
            # The provider never got it: it is safe to send once, as a normal pending message.
            _record(
                book,
                row,
                status="pending",
                kind="lookup",
                outcome="not_found",
                result=found,
                started=started,
                run_id=run_id,
                gateway=gw.name,
                epoch=row.claim_epoch,
                reason="provider has no record",
            )
            counts["recovered_pending"] += 1
        else:
            # It may have been delivered: a resend could be a second message, so a person decides.
            _record(
                book,
                row,
                status="call_list",
                kind="lookup",
                outcome="undetermined",
                result=found,
                started=started,
                run_id=run_id,
                gateway=gw.name,
                epoch=row.claim_epoch,
                reason=f"in doubt ({found.code}): the provider cannot confirm it; "
                "not resent, review by hand",
            )
            counts["in_doubt_call_list"] += 1
    book.flush(engine)
    return dict(counts)


def _pushed_report_for(engine: Engine, message_id: str) -> bool:
    with engine.connect() as conn:
        return (
            conn.execute(sql("pushed_report_exists", conn), {"id": message_id}).first() is not None
        )


class SenderSuperseded(PermanentError):
    """Another sender took this shard's lease over: this one stopped before its next gateway call."""


#: seconds added to the longest call a taken-over sender may still have in flight: the moment
#: between its lease check and the request leaving, and clocks read on two machines
TAKEOVER_MARGIN = 1.0
#: a sender reads the lease from the database at most this often; a takeover waits this long
#: more. Reading it before every call cost a third of the throughput (make bench-dispatch, (b)/(a)
#: 0.84 -> 0.56: a round trip per message)
LEASE_CHECK_SECONDS = 1.0


class ShardLease:
    """One sender per shard: the epoch this sender took the shard's lease under.

    :meth:`take` starts a new epoch (whoever held the shard before stops at its next check);
    :meth:`check` runs before every gateway call, reading the epoch at most every
    ``LEASE_CHECK_SECONDS``; :meth:`hold` runs inside each claim's transaction (a takeover then
    sees every message claimed under the old epoch); :meth:`release` tells the next holder that
    this one has stopped calling.
    """

    def __init__(
        self, engine: Engine, shard: int, epoch: int, holder: str, predecessor: Any
    ) -> None:
        self.engine, self.shard, self.epoch, self.holder = engine, shard, epoch, holder
        #: the lease row as it was before this sender took it (``epoch`` 0: never held)
        self.predecessor = predecessor
        self._conn: Connection | None = None
        #: monotonic time of the last read that found the epoch still this sender's
        self._confirmed = -LEASE_CHECK_SECONDS

    @classmethod
    def take(cls, engine: Engine, shard: int, *, run_id: str) -> ShardLease:
        holder = f"{run_id} pid {os.getpid()} on {socket.gethostname()}"[:250]
        with engine.begin() as conn:
            conn.execute(sql("send_lease_init", conn), {"shard": shard, "now": local_now()})
        for _ in range(5):  # another sender taking it at the same moment: read again
            with engine.begin() as conn:
                before = conn.execute(sql("send_lease_get", conn), {"shard": shard}).one()
                taken = conn.execute(
                    sql("send_lease_take", conn),
                    {"shard": shard, "seen": before.epoch, "holder": holder, "now": local_now()},
                ).rowcount
            if taken:
                return cls(engine, shard, before.epoch + 1, holder, before)
        raise TransientError(
            f"shard {shard}: could not take the send lease, other senders kept taking it"
        )

    def _current(self) -> int | None:
        if self._conn is None:  # its own connection: each check reads what is committed now
            self._conn = self.engine.connect().execution_options(isolation_level="AUTOCOMMIT")
        return self._conn.execute(
            sql("send_lease_epoch", self._conn), {"shard": self.shard}
        ).scalar()

    def _superseded(self, when: str) -> SenderSuperseded:
        with self.engine.connect() as conn:
            now = conn.execute(sql("send_lease_get", conn), {"shard": self.shard}).one()
        return SenderSuperseded(
            f"shard {self.shard}: taken over by another sender ({now.holder}, epoch {now.epoch}, "
            f"at {now.taken_at}); this one (epoch {self.epoch}) stopped {when}"
        )

    def check(self, when: str = "before its next gateway call") -> None:
        asked = time.monotonic()
        if asked - self._confirmed < LEASE_CHECK_SECONDS:
            return
        if self._current() != self.epoch:
            raise self._superseded(when)
        self._confirmed = asked

    def hold(self, conn: Connection) -> None:
        asked = time.monotonic()
        if not conn.execute(
            sql("send_lease_hold", conn), {"shard": self.shard, "epoch": self.epoch}
        ).rowcount:
            raise self._superseded("before claiming more messages")
        self._confirmed = asked

    def release(self) -> None:
        try:
            with self.engine.begin() as conn:
                conn.execute(
                    sql("send_lease_release", conn),
                    {"shard": self.shard, "epoch": self.epoch, "now": local_now()},
                )
        except Exception as exc:  # noqa: BLE001 - the error that stopped the sender matters more
            # unreleased, the next sender waits out a call this one no longer makes: no harm
            log.warning(
                "shard %s: the send lease was not released (%s)", self.shard, type(exc).__name__
            )
        finally:
            if self._conn is not None:
                self._conn.close()
                self._conn = None

    def wait_out_predecessor(self, gateways: Callable[[str], SmsGateway]) -> float:
        """Seconds waited for calls the previous holder may still have in flight.

        A holder that did not release the lease (killed, or still running as an orphan) may be in
        a call it started just before this takeover; the provider may record that message only as
        the call ends. Its claimed messages are looked up after the longest such call, or a lookup
        could find nothing and the message go out twice. Nothing claimed, or released: no wait.
        """
        before = self.predecessor
        if before.epoch == 0 or before.released_at is not None:
            return 0.0
        with self.engine.connect() as conn:
            claimed = [
                r
                for r in conn.execute(sql("outbox_in_doubt", conn), {"shard": self.shard})
                if r.status == "sending"
            ]
        if not claimed:
            return 0.0
        wait = max(gateways(c).longest_call_seconds() for c in {r.gateway_conn_id for r in claimed})
        wait += LEASE_CHECK_SECONDS + TAKEOVER_MARGIN
        log.warning(
            "shard %s: taken over from %s (epoch %s), which did not stop cleanly; waiting %.1f s "
            "for a call it may still have in flight before looking up its %s claimed message(s)",
            self.shard,
            before.holder,
            before.epoch,
            wait,
            len(claimed),
        )
        time.sleep(wait)
        return wait


def send_shard(
    engine: Engine,
    gateways: Callable[[str], SmsGateway],
    *,
    shard: int,
    run_id: str,
    rate: float | None = None,
    max_wait_seconds: float = 30.0,
    router: Router | None = None,
) -> dict[str, int]:
    """Send every due message of one shard; retry transient failures within ``max_wait_seconds``.

    Takes the shard's lease first (:class:`ShardLease`); raises :class:`SenderSuperseded` if
    another sender takes it over meanwhile. With a ``router`` (``failover.Router``), an SMS whose
    connection is failing or switched off goes through another (docs/adr/0402-sms-failover.md).
    """
    lease = ShardLease.take(engine, shard, run_id=run_id)
    try:
        lease.wait_out_predecessor(gateways)
        return _send(
            engine,
            gateways,
            lease,
            run_id=run_id,
            rate=rate,
            max_wait_seconds=max_wait_seconds,
            router=router,
        )
    finally:
        lease.release()  # a taken-over sender's release matches nothing: the lease is not its own


def _send(
    engine: Engine,
    gateways: Callable[[str], SmsGateway],
    lease: ShardLease,
    *,
    run_id: str,
    rate: float | None,
    max_wait_seconds: float,
    router: Router | None,
) -> dict[str, int]:
    from sqlalchemy import bindparam

    from licence_reminder.gateways.base import Outcome

    shard, epoch = lease.shard, lease.epoch
    counts: Counter[str] = Counter(
        recover(engine, gateways, shard=shard, run_id=run_id, lease=lease)
    )
    limiter = RateLimiter(rate)
    deadline = time.monotonic() + max_wait_seconds
    # A batch's outcomes are written on a second thread while the next batch is claimed and sent:
    # the sender does not stop for the database between batches (20-90 ms a batch here, which
    # also unsettled a configured rate). One batch at most is in flight; a write that fails stops
    # the sender after the batch being sent, whose messages stay 'sending' and are looked up by
    # the next run, never resent blind.
    writing: Future[None] | None = None
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"records-{shard}") as bookkeeper:
        while True:
            with engine.begin() as conn:
                lease.hold(conn)
                now = local_now()
                due = list(
                    conn.execute(
                        sql("outbox_due", conn),
                        {
                            "shard": shard,
                            "now": now,
                            "today_start": dt.datetime.combine(now.date(), dt.time()),
                            "limit": BOOKKEEPING_BATCH,
                        },
                    )
                )
                routes: dict[str, Route] = {}
                if due and router is not None:
                    due, routes, held = _route(conn, router, due, now)
                    counts.update(failed_over=len(routes), held_switched_off=held)
                if due:
                    claim = sql("outbox_claim", conn).bindparams(bindparam("ids", expanding=True))
                    claimed = conn.execute(
                        claim, {"ids": [r.id for r in due], "now": local_now(), "epoch": epoch}
                    ).rowcount
                    # another sender took some meanwhile: raising rolls this claim back
                    if claimed != len(due):
                        raise TransientError(
                            f"shard {shard}: {len(due) - claimed} of {len(due)} due "
                            "messages were claimed by another sender"
                        )
                    if routes:
                        due = _reroute(conn, due, routes, run_id=run_id, epoch=epoch)
            if not due:
                _written(writing)  # it may record retries that are due
                if time.monotonic() >= deadline or not _has_pending(engine, shard):
                    break
                time.sleep(1.0)
                continue
            book = _Book()
            stopped: tuple[SenderSuperseded, list[str]] | None = None
            refused: tuple[Any, SendResult, list[str]] | None = None
            #: claimed for a connection that began to cool down during this batch: back, untried,
            #: for the next claim to route elsewhere
            stepped_over: list[str] = []
            routed = router is not None
            for i, row in enumerate(due):
                try:
                    lease.check()
                except SenderSuperseded as exc:
                    stopped = (exc, [r.id for r in due[i:]])
                    break
                sms = routed and row.channel == CHANNEL
                if sms and router.route(row, local_now()) is not True:  # type: ignore[union-attr]
                    stepped_over.append(row.id)
                    continue
                gw = gateways(row.gateway_conn_id)
                limiter.wait()
                started = local_now()
                result = gw.send(sms_message(row))
                attempts = row.attempts + 1
                kw = {
                    "kind": "send",
                    "outcome": str(result.outcome),
                    "result": result,
                    "started": started,
                    "run_id": run_id,
                    "gateway": gw.name,
                    "epoch": epoch,
                }
                if sms:
                    if result.outcome in (Outcome.TRANSIENT, Outcome.RATE_LIMITED):
                        if router.failed(engine, row.gateway_conn_id, result, local_now()):  # type: ignore[union-attr]
                            counts["cooled_down"] += 1
                    elif result.outcome in (Outcome.ACCEPTED, Outcome.PERMANENT):
                        router.answered(row.gateway_conn_id)  # type: ignore[union-attr]
                if result.outcome == Outcome.ACCEPTED:
                    _record(book, row, status="sent", **kw)
                    counts["sent"] += 1
                elif result.outcome == Outcome.REFUSED:  # nobody's message can go: stop, lose none
                    _record(
                        book,
                        row,
                        status="pending",
                        next_at=local_now(),
                        reason=f"refused: {result.code}",
                        **kw,
                    )
                    refused = (row, result, [r.id for r in due[i + 1 :]])
                    break
                elif result.outcome == Outcome.PERMANENT:
                    _record(book, row, status="call_list", reason=f"permanent: {result.code}", **kw)
                    counts["call_list"] += 1
                elif result.ambiguous:
                    _record(book, row, status="unknown", **kw)
                    counts["in_doubt"] += 1
                elif attempts >= MAX_ATTEMPTS:
                    _record(
                        book,
                        row,
                        status="call_list",
                        reason=f"gave up after {attempts} attempts: {result.code}",
                        **kw,
                    )
                    counts["call_list"] += 1
                else:
                    wait = backoff_seconds(
                        attempts, rate_limited=result.outcome == Outcome.RATE_LIMITED
                    )
                    _record(
                        book,
                        row,
                        status="pending",
                        next_at=local_now() + dt.timedelta(seconds=wait),
                        **kw,
                    )
                    counts["retry_scheduled"] += 1
            _written(writing)
            writing = bookkeeper.submit(book.flush, engine)
            _release(engine, stepped_over, epoch)
            if stopped is not None:
                _written(writing)
                exc, unsent = stopped
                _release(engine, unsent, epoch)
                sent_so_far = json.dumps({k: v for k, v in counts.items() if v})
                raise SenderSuperseded(
                    f"{exc}; {len(unsent)} message(s) of its batch went back to "
                    f"pending, untried, for the new holder (done here: {sent_so_far})"
                )
            if refused is not None:
                _written(writing)
                _refuse(engine, shard, *refused, epoch=epoch)
            # messages left in doubt by a timeout are looked up before anything else is retried
            if counts["in_doubt"]:
                _written(writing)
                counts.update(recover(engine, gateways, shard=shard, run_id=run_id, lease=lease))
                counts["in_doubt"] = 0
    return {k: v for k, v in counts.items() if v}


def _route(
    conn: Connection, router: Router, due: list[Any], now: dt.datetime
) -> tuple[list[Any], dict[str, Route], int]:
    """The due messages to claim, the SMS among them that go through another connection, and how
    many wait because every connection they could take is switched off (deferred, untried)."""
    from sqlalchemy import bindparam

    router.refresh(conn)
    keep: list[Any] = []
    routes: dict[str, Route] = {}
    held: list[str] = []
    for row in due:
        route = router.route(row, now) if row.channel == CHANNEL else True
        if route is None:
            held.append(row.id)
            continue
        if route is not True:
            routes[row.id] = route
        keep.append(row)
    if held:
        defer = sql("outbox_defer", conn).bindparams(bindparam("ids", expanding=True))
        conn.execute(defer, {"ids": held, "now": now, "next_at": now + HOLD_SWITCHED_OFF})
        log.warning(
            "%s message(s) wait: every gateway connection they could go through is switched off",
            len(held),
        )
    return keep, routes, len(held)


def _reroute(
    conn: Connection, due: list[Any], routes: dict[str, Route], *, run_id: str, epoch: int
) -> list[Any]:
    """Moves the claimed messages of ``routes`` to their new connection, with a ``failover`` audit
    row each, in the claim's transaction: committed before any call."""
    from types import SimpleNamespace

    now = local_now()
    moved, rows, audit = [], [], []
    for row in due:
        route = routes.get(row.id)
        if route is None:
            rows.append(row)
            continue
        moved.append(
            {
                "id": row.id,
                "to_conn_id": route.conn_id,
                "provider": route.provider,
                "template_code": route.template_code,
                "now": now,
                "epoch": epoch,
            }
        )
        new = SimpleNamespace(
            **{
                **row._mapping,
                "gateway_conn_id": route.conn_id,
                "template_code": route.template_code,
            }
        )
        audit.append(
            attempt_row(
                new,
                kind="failover",
                outcome="rerouted",
                result=None,
                attempt_no=row.attempts + 1,
                started=now,
                finished=now,
                run_id=run_id,
                gateway=route.provider,
                detail=f"from {row.gateway_conn_id} to {route.conn_id}: {route.reason}",
            )
        )
        rows.append(new)
    conn.execute(sql("outbox_route", conn), moved)
    conn.execute(sql("attempt_insert", conn), audit)
    return rows


def _release(engine: Engine, ids: list[str], epoch: int) -> None:
    """Claimed messages that were not tried go back to pending (only while the claim is ``epoch``'s)."""
    if ids:
        from sqlalchemy import bindparam

        with engine.begin() as conn:
            release = sql("outbox_release", conn).bindparams(bindparam("ids", expanding=True))
            conn.execute(release, {"ids": ids, "now": local_now(), "epoch": epoch})


def _refuse(
    engine: Engine, shard: int, row: Any, result: SendResult, unsent: list[str], *, epoch: int
) -> None:
    """The provider refused the account: the batch's other messages go back, untried, and the
    task fails naming the connection — a wrong secret must not put every holder on the call list."""
    _release(engine, unsent, epoch)
    # the code only: a provider's text can quote the request (Alibaba's SignatureDoesNotMatch
    # gives the string it signed, with the mobile and the names); the outbox row keeps it
    raise PermanentError(
        f"shard {shard}: gateway connection {row.gateway_conn_id!r} refused the account "
        f"({result.code}): a wrong key or secret, or a signature or template "
        f"the provider has not approved; no message went to the call list, {len(unsent) + 1} of this "
        "batch and the rest stay pending for the first run after the connection is fixed"
    )


def tried_unsent(engine: Engine, shard: int) -> int:
    """Messages of the shard tried and still pending: the gateway's errors outlasted the wait."""
    with engine.connect() as conn:
        return int(conn.execute(sql("outbox_tried_unsent", conn), {"shard": shard}).scalar() or 0)


def pending_count(engine: Engine, shard: int) -> int:
    """Messages of the shard waiting to be sent (now or at their retry time)."""
    with engine.connect() as conn:
        return int(conn.execute(sql("outbox_pending_count", conn), {"shard": shard}).scalar() or 0)


def _written(writing: Future[None] | None) -> None:
    """Wait for a batch's outcomes to be written (raising what the write raised)."""
    if writing is not None:
        writing.result()


def _has_pending(engine: Engine, shard: int) -> bool:
    with engine.connect() as conn:
        now = local_now()
        return (
            conn.execute(
                sql("outbox_due", conn),
                {
                    "shard": shard,
                    "now": now + dt.timedelta(days=3650),
                    "today_start": dt.datetime.combine(now.date(), dt.time()),
                    "limit": 1,
                },
            ).first()
            is not None
        )
