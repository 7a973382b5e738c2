"""Delivery receipts: whether an accepted message reached the handset, not only the gateway.

A provider accepts a message at once; the carrier reports later whether it was delivered. The
dispatch asks, for every message accepted in the last few days whose report is not in, with the
same look-up that settles doubts after a timeout (it never sends). Delivered messages and their
reminders become ``delivered``; a message the carrier could not deliver goes to the phone-call
list with the carrier's code; one without a report yet is asked again at the next run. Every
report received is an append-only audit row (``delivery_attempt``, kind ``receipt``).

Reports can also be pushed by the providers (``licence_reminder.pushed``): those are applied
first, through the same :func:`settle`, so a message has one receipt row whichever way its report
came, and the pull asks only about messages no push has settled.
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
    from sqlalchemy import Connection, Engine

    from licence_reminder.gateways.base import LookupResult, SmsGateway

log = logging.getLogger(__name__)

#: Carriers report within hours; a message with no report after this long is left as sent.
WINDOW = dt.timedelta(days=3)


def collect(
    engine: Engine,
    gateways: Callable[[str], SmsGateway],
    *,
    run_id: str,
    now: dt.datetime | None = None,
    window: dt.timedelta = WINDOW,
) -> dict[str, int]:
    from licence_reminder import pushed
    from licence_reminder.dispatch import as_date, sms_message

    now = now or local_now()
    counts: Counter[str] = Counter()
    for key, value in pushed.apply(engine, run_id=run_id, now=now, window=window).items():
        counts[f"pushed_{key}"] += value
    with engine.connect() as conn:
        rows = list(conn.execute(sql("outbox_awaiting_receipt", conn), {"since": now - window}))
    reports: list[tuple[Any, LookupResult, str]] = []
    for row in rows:
        gw = gateways(row.gateway_conn_id)
        try:
            report: LookupResult = gw.lookup(sms_message(row), as_date(row.sent_at))
        except TransientError as exc:
            log.warning("receipt of message %s not available now: %s", row.id, exc)
            counts["lookup_failed"] += 1
            continue
        if not report.found or report.delivered is None:
            counts["awaiting"] += 1
            continue
        reports.append((row, report, gw.name))
    if reports:
        with engine.begin() as conn:
            counts.update(settle(conn, reports, run_id=run_id))
    return dict(counts)


def settle(
    conn: Connection, reports: list[tuple[Any, LookupResult, str]], *, run_id: str
) -> Counter[str]:
    """Apply carrier reports (each: the outbox row, the report, the gateway's name) in ``conn``'s
    transaction. A message is settled by the first report only: the update is conditional on
    ``sent`` and its receipt row written only when it changed the message, so a pull and a push
    of the same report racing each other leave one row, never two."""
    from licence_reminder.dispatch import attempt_row

    counts: Counter[str] = Counter()
    reminders: list[dict[str, Any]] = []
    attempts: list[dict[str, Any]] = []
    statement = sql("outbox_receipt", conn)
    for row, report, gateway in reports:
        started = local_now()
        status = "delivered" if report.delivered else "call_list"
        reason = None if report.delivered else f"not delivered: {report.code or 'carrier report'}"
        changed = conn.execute(
            statement,
            {
                "id": row.id,
                "status": status,
                "last_code": report.code,
                "last_message": reason or "delivered",
                "now": started,
            },
        ).rowcount
        if not changed:
            counts["already_settled"] += 1
            continue
        reminders.append({"message_id": row.id, "status": status, "reason": reason, "now": started})
        attempts.append(
            attempt_row(
                row,
                kind="receipt",
                outcome="delivered" if report.delivered else "undelivered",
                result=report,
                attempt_no=row.attempts,
                started=started,
                finished=local_now(),
                run_id=run_id,
                gateway=gateway,
            )
        )
        counts["delivered" if report.delivered else "undelivered"] += 1
    if attempts:
        conn.execute(sql("attempt_insert", conn), attempts)
        conn.execute(sql("reminder_receipt", conn), reminders)
    return counts
