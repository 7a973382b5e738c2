"""Delivery receipts: whether an accepted message reached the handset, not only the gateway.

A provider accepts a message at once; the carrier reports later whether it was delivered. The
dispatch asks, for every message accepted in the last few days whose report is not in, with the
same look-up that settles doubts after a timeout (it never sends). Delivered messages and their
reminders become ``delivered``; a message the carrier could not deliver goes to the phone-call
list with the carrier's code; one without a report yet is asked again at the next run. Every
report received is an append-only audit row (``delivery_attempt``, kind ``receipt``).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections import Counter
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from licence_reminder.config import local_now
from licence_reminder.db import sql
from licence_reminder.errors import TransientError

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from licence_reminder.gateways.base import LookupResult, SmsGateway

log = logging.getLogger(__name__)

#: Carriers report within hours; a message with no report after this long is left as sent.
WINDOW = dt.timedelta(days=3)


def collect(engine: Engine, gateways: Callable[[str], SmsGateway], *, run_id: str,
            now: dt.datetime | None = None, window: dt.timedelta = WINDOW) -> dict[str, int]:
    from licence_reminder.dispatch import as_date, attempt_row, sms_message

    now = now or local_now()
    with engine.connect() as conn:
        rows = list(conn.execute(sql("outbox_awaiting_receipt", conn), {"since": now - window}))
    counts: Counter[str] = Counter()
    outbox: list[dict[str, Any]] = []
    reminders: list[dict[str, Any]] = []
    attempts: list[dict[str, Any]] = []
    for row in rows:
        gw = gateways(row.gateway_conn_id)
        started = local_now()
        try:
            report: LookupResult = gw.lookup(sms_message(row), as_date(row.sent_at))
        except TransientError as exc:
            log.warning("receipt of message %s not available now: %s", row.id, exc)
            counts["lookup_failed"] += 1
            continue
        if not report.found or report.delivered is None:
            counts["awaiting"] += 1
            continue
        status = "delivered" if report.delivered else "call_list"
        reason = None if report.delivered else f"not delivered: {report.code or 'carrier report'}"
        outbox.append({"id": row.id, "status": status, "last_code": report.code,
                       "last_message": reason or "delivered", "now": started})
        reminders.append({"message_id": row.id, "status": status, "reason": reason, "now": started})
        attempts.append(attempt_row(
            row, kind="receipt", outcome="delivered" if report.delivered else "undelivered",
            result=report, attempt_no=row.attempts, started=started,
            finished=local_now(), run_id=run_id, gateway=gw.name))
        counts["delivered" if report.delivered else "undelivered"] += 1
    if attempts:
        with engine.begin() as conn:
            conn.execute(sql("attempt_insert", conn), attempts)
            conn.execute(sql("outbox_receipt", conn), outbox)
            conn.execute(sql("reminder_receipt", conn), reminders)
    return dict(counts)
