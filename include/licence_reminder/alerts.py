"""Alerts people receive, once per incident, and departments held from dispatch on stale data.

An incident has a key (``sync_failed:<dept>``, ``data_stale:<dept>``, ``gateway_refused:<conn>``,
``dispatch_late:<day>``, ``sending_window_closed:<day>``). :func:`open_incident` writes an
``alert`` row whose ``open_key`` is that key, unique while open: a task's retry, the next run or a
second task finding the same incident writes nothing and sends nothing. :func:`deliver` sends
every alert not yet sent through the configured notifiers (``notifiers``), claiming it first, and
records each notifier that took it, so a notifier that failed is tried again by the next
:func:`deliver` without the others sending twice. An incident that ends (the department syncs,
the gateway takes messages again) is resolved; should it happen again, that is a new alert.

:func:`review` derives the department and gateway incidents from the ledger as it stands, so
every task that calls it (a sync's failure, the dispatch's plan and its last word) sees the same.
A department whose last good sync is older than ``Settings.max_data_age`` is **held**: an open
``dispatch_hold`` row keeps its reminders planned (``dispatch_to_render.sql``) until it syncs or
an operator releases it (``cli hold release``), docs/adr/0501-alerts-and-holds.md.

Alert texts name departments, connections, days and counts, never a person: no name, mobile or
identity number; a sync's error is quoted as the ledger keeps it, its quoted values redacted.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from licence_reminder.config import Settings, local_now
from licence_reminder.db import sql
from licence_reminder.errors import redact_values

if TYPE_CHECKING:
    from airflow.sdk.bases.notifier import BaseNotifier
    from sqlalchemy import Engine

log = logging.getLogger(__name__)

#: a claim older than this belongs to a sender that died: another may send the alert
CLAIM_STALE = dt.timedelta(minutes=10)
PRODUCT = "证照到期提醒 licence reminders"


@dataclass(frozen=True)
class Incident:
    kind: str
    key: str
    title: str
    body: str
    dept_code: str | None = None


def _as_datetime(v: Any) -> dt.datetime | None:
    if v is None or isinstance(v, dt.datetime):
        return v
    return dt.datetime.fromisoformat(str(v)[:19])


def open_incident(engine: Engine, incident: Incident, *, now: dt.datetime | None = None) -> bool:
    """Records the incident unless it is open already; True if it is new (an alert to send)."""
    from sqlalchemy.exc import IntegrityError

    try:
        with engine.begin() as conn:
            conn.execute(
                sql("alert_open", conn),
                {
                    "kind": incident.kind,
                    "key": incident.key,
                    "dept_code": incident.dept_code,
                    "title": incident.title[:200],
                    "body": incident.body,
                    "now": now or local_now(),
                },
            )
    except IntegrityError:  # open already: this retry or run found what another recorded
        return False
    log.warning("alert %s: %s", incident.key, incident.title)
    return True


def resolve(engine: Engine, key: str, *, now: dt.datetime | None = None) -> bool:
    with engine.begin() as conn:
        return bool(
            conn.execute(
                sql("alert_resolve", conn), {"key": key, "now": now or local_now()}
            ).rowcount
        )


Notifiers = Callable[[str, str], list[tuple[str, "BaseNotifier"]]]


@dataclass
class Delivery:
    sent: list[str] = field(default_factory=list)
    #: (alert key, where, why) of every notifier that failed: tried again at the next deliver
    failed: list[tuple[str, str, str]] = field(default_factory=list)


def deliver(
    engine: Engine,
    settings: Settings,
    *,
    notifiers: Notifiers | None = None,
    now: dt.datetime | None = None,
) -> Delivery:
    """Sends each alert not yet sent through every configured notifier that has not taken it."""
    from licence_reminder.notifiers import notifiers_for

    build = notifiers or (lambda title, body: notifiers_for(settings, title, body))
    out = Delivery()
    with engine.connect() as conn:
        unsent = list(conn.execute(sql("alert_unsent", conn)))
    for alert in unsent:
        now_ = now or local_now()
        with engine.begin() as conn:
            if not conn.execute(
                sql("alert_claim", conn), {"id": alert.id, "now": now_, "stale": now_ - CLAIM_STALE}
            ).rowcount:
                continue  # another task is sending it
        done = [w for w in (alert.sent_to or "").split(",") if w]
        channels = build(alert.title, alert.body)
        if not channels:
            log.error(
                "alert %s not sent: no alert channel is configured (LR_ALERT_EMAIL_TO, "
                "LR_ALERT_ROBOT_CONN_ID): %s",
                alert.incident_key,
                alert.title,
            )
        for where, notifier in channels:
            if where in done:
                continue
            try:
                notifier.notify({})
            except Exception as exc:  # noqa: BLE001 - one channel's fault must not stop the others
                why = redact_values(f"{type(exc).__name__}: {exc}")[:300]
                out.failed.append((alert.incident_key, where, why))
                log.error(
                    "alert %s: %s did not take it (%s); tried again at the next delivery",
                    alert.incident_key,
                    where,
                    why,
                )
            else:
                done.append(where)
        complete = bool(channels) and all(w in done for w, _ in channels)
        with engine.begin() as conn:
            conn.execute(
                sql("alert_sent_to", conn),
                {
                    "id": alert.id,
                    "sent_to": ",".join(done)[:200] or None,
                    "sent_at": local_now() if complete else None,
                },
            )
        if complete:
            out.sent.append(alert.incident_key)
    return out


# --------------------------------------------------------------------------- review
@dataclass
class Review:
    """What :func:`review` found: departments whose latest sync failed; departments held, with why."""

    sync_failed: dict[str, str] = field(default_factory=dict)
    held: dict[str, str] = field(default_factory=dict)
    gateway_refused: dict[str, str] = field(default_factory=dict)
    opened: list[str] = field(default_factory=list)
    resolved: list[str] = field(default_factory=list)


def _age(now: dt.datetime, then: dt.datetime | None) -> str:
    if then is None:
        return "never synced successfully"
    hours = (now - then).total_seconds() / 3600
    return f"last good sync {then:%Y-%m-%d %H:%M} ({hours:.0f} h ago)"


def review(engine: Engine, settings: Settings, *, now: dt.datetime | None = None) -> Review:
    """Opens and resolves the department and gateway incidents, holds and ends holds, from the
    ledger as it stands. Idempotent."""
    now = now or local_now()
    out = Review()
    limit_h = settings.max_data_age.total_seconds() / 3600
    with engine.connect() as conn:
        departments = list(conn.execute(sql("alert_department_state", conn)).mappings())
        refused = list(conn.execute(sql("alert_gateway_refused", conn)))
        open_keys = {r.open_key for r in conn.execute(sql("alert_open_keys", conn))}
    wanted: dict[str, Incident] = {}
    for d in departments:
        code = d["code"]
        if d["mode"] == "retire":  # never reminded again: nothing to hold, its alerts resolve below
            _end_hold(engine, code, how="retired", now=now)
            continue
        last_success = _as_datetime(d["last_success"])
        if d["status"] == "failed":
            why = redact_values(str(d["error"] or "no error recorded").splitlines()[0])[:300]
            out.sync_failed[code] = why
            wanted[f"sync_failed:{code}"] = Incident(
                "sync_failed",
                f"sync_failed:{code}",
                f"[{PRODUCT}] department {code}: sync failed",
                f"Department {code} ({d['name']}): its sync run {d['run_id']} failed at "
                f"{str(d['finished_at'])[:16]}: {why}\n"
                f"The ledger keeps its data of the {_age(now, last_success)}; "
                "the next good sync clears this alert.",
                code,
            )
        if last_success is None or now - last_success > settings.max_data_age:
            reason = f"data older than {limit_h:g} h: {_age(now, last_success)}"
            if _hold(engine, code, last_success, reason, now):
                out.held[code] = reason
            wanted[f"data_stale:{code}"] = Incident(
                "data_stale",
                f"data_stale:{code}",
                f"[{PRODUCT}] department {code}: data stale, held",
                f"Department {code} ({d['name']}): {reason} (LR_MAX_DATA_AGE_HOURS).\n"
                + (
                    f"Its reminders stay planned: it is held from dispatch until it syncs or an "
                    f"operator releases it (`python -m licence_reminder.cli hold release {code}`)."
                    if code in out.held
                    else "An operator released its hold: it is dispatched from the data the ledger has."
                ),
                code,
            )
        else:
            _end_hold(engine, code, how="synced", now=now)
    for r in refused:
        conn_id = r.gateway_conn_id
        out.gateway_refused[conn_id] = str(r.code)
        wanted[f"gateway_refused:{conn_id}"] = Incident(
            "gateway_refused",
            f"gateway_refused:{conn_id}",
            f"[{PRODUCT}] SMS gateway {conn_id}: account refused",
            f"The SMS provider of gateway connection {conn_id!r} refused the account ({r.code}): a "
            f"wrong key or secret, or a signature or template it has not approved. {r.messages} "
            "message(s) wait, pending; they go out with the first dispatch run after the "
            "connection is fixed.",
        )
    for key, incident in wanted.items():
        if key not in open_keys and open_incident(engine, incident, now=now):
            out.opened.append(key)
    # a department the ledger does not know yet (its sync failed before registering it) keeps the
    # alert its task opened until it has synced
    judged = {f"{kind}:{d['code']}" for d in departments for kind in ("sync_failed", "data_stale")}
    for key in open_keys:
        if (key in judged or key.startswith("gateway_refused:")) and key not in wanted:
            resolve(engine, key, now=now)
            out.resolved.append(key)
    return out


# --------------------------------------------------------------------------- holds
def _hold(
    engine: Engine, code: str, data_as_of: dt.datetime | None, reason: str, now: dt.datetime
) -> bool:
    """Holds the department unless an operator released it on the data it has now; True if held."""
    with engine.begin() as conn:
        args = {"dept_code": code, "data_as_of": data_as_of}
        if conn.execute(sql("hold_released", conn), args).scalar():
            return False
        conn.execute(sql("hold_open", conn), {**args, "now": now, "reason": reason[:500]})
    return True


def _end_hold(
    engine: Engine,
    code: str,
    *,
    how: str,
    now: dt.datetime,
    by: str | None = None,
    note: str | None = None,
) -> bool:
    with engine.begin() as conn:
        return bool(
            conn.execute(
                sql("hold_end", conn),
                {"dept_code": code, "now": now, "how": how, "by": by, "note": note},
            ).rowcount
        )


def release(
    engine: Engine, code: str, *, by: str, note: str, now: dt.datetime | None = None
) -> bool:
    """An operator releases a department's hold: it is dispatched from the data it has, and not
    held again until its next good sync has gone stale in turn. False: it was not held."""
    return _end_hold(
        engine, code, how="released", now=now or local_now(), by=by[:100], note=note[:500]
    )


def holds(engine: Engine, *, all_holds: bool = False) -> list[dict[str, Any]]:
    with engine.connect() as conn:
        return [
            dict(r)
            for r in conn.execute(sql("hold_list", conn), {"all_holds": int(all_holds)}).mappings()
        ]


# --------------------------------------------------------------------------- dispatch incidents
def dispatch_late(day: str, deadline: dt.time, *, runs: str, state: str) -> Incident:
    return Incident(
        "dispatch_late",
        f"dispatch_late:{day}",
        f"[{PRODUCT}] dispatch of {day} not finished by {deadline:%H:%M}",
        f"The dispatch for {day} (scheduled at {runs}) had not finished successfully by "
        f"{deadline:%H:%M} (LR_DISPATCH_DEADLINE): it {state}. Reminders it has not sent stay "
        "planned or queued; see dispatch_reminders in the Airflow UI.",
    )


def sending_window_closed(day: str, window: str, waiting: int) -> Incident:
    return Incident(
        "sending_window_closed",
        f"sending_window_closed:{day}",
        f"[{PRODUCT}] dispatch of {day}: nothing sent, outside the sending hours",
        f"The dispatch ran outside the sending hours {window}: nothing was sent and {waiting} "
        "message(s) stay queued for the first dispatch run inside the sending hours. Move the "
        "schedule (LR_DISPATCH_SCHEDULE) into the window, or trigger a run inside it.",
    )
