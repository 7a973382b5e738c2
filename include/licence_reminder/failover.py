"""SMS provider failover: which gateway connection each message goes through.

A message is written for a connection (its department's, or ``LR_GATEWAY_CONN_ID``). When that
connection is failing — ``threshold`` transient failures in a row at one sender (5xx, timeouts,
flow control), or switched off by an operator — the sender steps over it: the message goes through
the first connection of the ordered list (``LR_SMS_FAILOVER``) that is healthy and can take it.
A cool-down lasts ``cooldown``; the decision is shared by every sender through
``sms_provider_health``.

What keeps a message from going out twice (docs/adr/0402-sms-failover.md):

- only a ``pending`` message is routed, at its claim, and the new connection is committed with the
  claim, before the call: a message left in doubt is looked up (``dispatch.recover``) at the
  connection its request went to, and only a conclusive "not found" there makes it pending again;
- a message a provider accepted is ``sent`` and never claimed again.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from licence_reminder.config import local_now
from licence_reminder.db import sql

if TYPE_CHECKING:
    from sqlalchemy import Connection, Engine

    from licence_reminder.dispatch import GatewayProfile
    from licence_reminder.gateways.base import SendResult

log = logging.getLogger(__name__)

THRESHOLD = 5
COOLDOWN = dt.timedelta(minutes=5)


@dataclass(frozen=True)
class FailoverSettings:
    #: the connections a message may fail over to, in order
    order: tuple[str, ...] = ()
    threshold: int = THRESHOLD
    cooldown: dt.timedelta = COOLDOWN

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> FailoverSettings:
        env = os.environ if env is None else env
        order = tuple(
            dict.fromkeys(c.strip() for c in env.get("LR_SMS_FAILOVER", "").split(",") if c.strip())
        )
        return cls(
            order=order,
            threshold=_positive(env, "LR_SMS_FAILOVER_THRESHOLD", THRESHOLD),
            cooldown=dt.timedelta(
                seconds=_positive(env, "LR_SMS_COOLDOWN_SECONDS", int(COOLDOWN.total_seconds()))
            ),
        )


def _positive(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name) or str(default)
    if not raw.isdigit() or int(raw) <= 0:
        raise ValueError(f"{name} must be a positive whole number, got {raw!r}")
    return int(raw)


def moment(v: Any) -> dt.datetime | None:
    """A stored time as a datetime (SQLite gives its text)."""
    return dt.datetime.fromisoformat(v) if isinstance(v, str) else v


@dataclass(frozen=True)
class Route:
    conn_id: str
    provider: str
    template_code: str
    #: why the message's own connection was stepped over
    reason: str


@dataclass
class Health:
    """A connection's row of ``sms_provider_health``, as a sender read it."""

    cooldown_until: dt.datetime | None = None
    reason: str | None = None
    switched_off: bool = False
    switched_by: str | None = None
    switch_reason: str | None = None


@dataclass
class Router:
    """One sender's view of the connections' health, and its routing of each claimed SMS.

    ``profiles``: the connections of ``settings.order`` that could be built (a message fails over
    only to a connection whose approved templates, variable caps and signature take it as written).
    """

    settings: FailoverSettings
    profiles: dict[str, GatewayProfile] = field(default_factory=dict)
    health: dict[str, Health] = field(default_factory=dict)
    #: connection -> transient failures in a row at this sender
    failures: dict[str, int] = field(default_factory=dict)
    #: connection -> a cool-down this sender could not share (kept over each refresh)
    tripped: dict[str, tuple[dt.datetime, str]] = field(default_factory=dict)

    def refresh(self, conn: Connection) -> None:
        """The shared health as committed now (inside each claim's transaction)."""
        self.health = {
            r.conn_id: Health(
                moment(r.cooldown_until),
                r.reason,
                bool(r.switched_off),
                r.switched_by,
                r.switch_reason,
            )
            for r in conn.execute(sql("provider_health_all", conn))
        }
        for conn_id, (until, reason) in self.tripped.items():
            h = self.health.setdefault(conn_id, Health())
            if h.cooldown_until is None or h.cooldown_until < until:
                h.cooldown_until, h.reason = until, reason

    def why_not(self, conn_id: str, now: dt.datetime) -> str | None:
        """Why the connection is stepped over now, or None when it is not."""
        h = self.health.get(conn_id)
        if h is None:
            return None
        if h.switched_off:
            return f"{conn_id} switched off by {h.switched_by or 'an operator'}: {h.switch_reason or 'no reason given'}"
        if h.cooldown_until is not None and h.cooldown_until > now:
            return f"{conn_id} cooling down until {h.cooldown_until:%Y-%m-%d %H:%M:%S}: {h.reason}"
        return None

    def _takes(self, conn_id: str, row: Any) -> str | None:
        """The template code ``conn_id`` sends the message under, or None when it cannot take it."""
        from licence_reminder.render import MessageRejected, check_sms

        profile = self.profiles.get(conn_id)
        if profile is None:
            return None
        code = profile.templates.get(
            row.template_name, None if profile.templates else row.template_name
        )
        if code is None:
            return None
        params = json.loads(row.params)
        if any(len(str(v)) > profile.caps[k] for k, v in params.items() if k in profile.caps):
            return None
        try:
            check_sms(row.body, sign_name=profile.sign_name)
        except MessageRejected:
            return None
        return code

    def route(self, row: Any, now: dt.datetime) -> Route | None | bool:
        """``True``: the message goes through its own connection; a :class:`Route`: through
        another; ``None``: through none now (every connection it could take is switched off).

        A cool-down steps over a connection only when another can take the message: with nowhere
        else to go, it is retried where it is, as without failover."""
        own = row.gateway_conn_id
        why = self.why_not(own, now)
        if why is None:
            return True
        for conn_id in self.settings.order:
            if conn_id == own or self.why_not(conn_id, now) is not None:
                continue
            code = self._takes(conn_id, row)
            if code is not None:
                return Route(conn_id, self.profiles[conn_id].provider, code, why)
        return None if self.health[own].switched_off else True

    def answered(self, conn_id: str) -> None:
        """The provider answered the call (accepted, or refused the message for good)."""
        self.failures.pop(conn_id, None)

    def failed(self, engine: Engine, conn_id: str, result: SendResult, now: dt.datetime) -> bool:
        """A transient failure (5xx, timeout, flow control) at ``conn_id``; True when it makes
        the connection cool down (written for every sender)."""
        n = self.failures[conn_id] = self.failures.get(conn_id, 0) + 1
        if n < self.settings.threshold:
            return False
        self.failures[conn_id] = 0
        until = now + self.settings.cooldown
        reason = f"{n} transient failures in a row, the last {result.code}"[:500]
        h = self.health.setdefault(conn_id, Health())
        h.cooldown_until, h.reason = until, reason
        try:
            with engine.begin() as conn:
                conn.execute(sql("provider_health_init", conn), {"conn_id": conn_id, "now": now})
                conn.execute(
                    sql("provider_health_trip", conn),
                    {"conn_id": conn_id, "until": until, "now": now, "reason": reason},
                )
        except Exception as exc:  # noqa: BLE001 - this sender steps over it all the same
            self.tripped[conn_id] = until, reason
            log.warning(
                "gateway connection %s: its cool-down was not shared with the other senders (%s)",
                conn_id,
                type(exc).__name__,
            )
        log.warning(
            "gateway connection %s: %s; stepped over until %s", conn_id, reason, f"{until:%H:%M:%S}"
        )
        return True


# --------------------------------------------------------------------------- operator
def status(engine: Engine) -> list[dict[str, Any]]:
    with engine.connect() as conn:
        return [dict(r._mapping) for r in conn.execute(sql("provider_health_all", conn))]


def switch(engine: Engine, conn_id: str, *, off: bool, by: str, reason: str | None = None) -> None:
    """The operator's switch: an SMS connection switched off takes no message until switched on
    (which also ends a cool-down). Messages already accepted or in doubt there stay where they are."""
    if not conn_id:
        raise ValueError("a gateway connection id is required")
    now = local_now()
    with engine.begin() as conn:
        conn.execute(sql("provider_health_init", conn), {"conn_id": conn_id, "now": now})
        conn.execute(
            sql("provider_health_switch", conn),
            {
                "conn_id": conn_id,
                "off": off,
                "by": by[:100],
                "now": now,
                "reason": (reason or None) and reason[:500],
            },
        )
