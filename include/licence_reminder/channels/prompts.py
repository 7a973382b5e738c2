"""In-system prompts (业务系统自动提示): the reminders a department's business system shows its
holders when they log in or apply, pulled through the API and acknowledged when shown.

A prompt is written for each planned ``prompt`` reminder on its day (:func:`write`) and stays
``open`` until the business system acknowledges it (:func:`acknowledge`: the reminder becomes
``delivered`` and an audit row ``kind='ack'`` is written, as for any delivery), or it is
``withdrawn`` (the reminder was cancelled: renewed, applied for, revoked, superseded by the
second reminder) or ``expired`` (the licence expired unacknowledged: the reminder ``failed``).

The feed (:func:`page`): every prompt of the department whose state changed after a cursor, in
the order of the changes. Each change takes the next number of the one-row ``prompt_feed`` under
its row lock (:func:`_take`), held until the change commits: a change numbered lower than one a
reader has seen has always committed before it, so a reader that keeps the last number it saw
misses nothing. The text states dates, never "days left": it stays true whenever it is shown.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import json
import uuid
from collections import Counter
from typing import TYPE_CHECKING, Any

from licence_reminder import figures
from licence_reminder.config import local_now
from licence_reminder.db import sql
from licence_reminder.masking import mask_id

if TYPE_CHECKING:
    from sqlalchemy import Connection, Engine

MAX_PAGE = 500
#: the audit row's gateway: the business system that fetched or acknowledged the prompt
GATEWAY = "business_system"


@functools.cache
def _templates():  # type: ignore[no-untyped-def]
    import jinja2

    from licence_reminder.config import TEMPLATES_DIR

    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(TEMPLATES_DIR)),
        undefined=jinja2.StrictUndefined,
        autoescape=False,
    )


def _take(conn: Connection, n: int) -> range:
    """``n`` feed numbers, in a block no other writer can interleave until this one commits."""
    conn.execute(sql("prompt_feed_take", conn), {"n": n})
    top = int(conn.execute(sql("prompt_feed_top", conn)).scalar_one())
    return range(top - n + 1, top + 1)


def text(row: Any, entry: Any, *, stage: int, deadline: dt.date, today: dt.date) -> tuple[str, str]:
    """(title, body) of a prompt: attachment 3's content, as dates."""
    from licence_reminder.dispatch import as_date

    title = f"证照{'即将到期（再次提醒）' if stage == 2 else '到期提醒'}：{row.licence_name}"[:100]
    body = (
        _templates()
        .get_template("prompt.txt.j2")
        .render(
            holder=row.holder_name or "您",
            licence_name=row.licence_name,
            licence_no=row.licence_no,
            expiry=as_date(row.expiry_date),
            deadline=deadline,
            deadline_open=deadline >= today,
            entry=entry,
            stage=stage,
            dept_name=row.dept_name,
        )
        .strip()
    )
    return title, body


def write(conn: Connection, prompts: list[dict[str, Any]]) -> None:
    """Insert today's prompts (each with its feed number) and queue their reminders."""
    if not prompts:
        return
    for p, seq in zip(prompts, _take(conn, len(prompts)), strict=True):
        p["feed_seq"] = seq
        p["status"] = "open"
    conn.execute(sql("prompt_insert", conn), prompts)
    conn.execute(
        sql("reminder_queue", conn),
        [
            {"reminder_id": p["reminder_id"], "message_id": p["id"], "now": p["now"]}
            for p in prompts
        ],
    )


def new_prompt(
    row: Any,
    entry: Any,
    *,
    stage: int,
    deadline: dt.date,
    today: dt.date,
    run_id: str,
    now: dt.datetime,
) -> dict[str, Any]:
    from licence_reminder.dispatch import as_date

    title, body = text(row, entry, stage=stage, deadline=deadline, today=today)
    return {
        "id": uuid.uuid4().hex,
        "reminder_id": row.reminder_id,
        "dept_code": row.dept_code,
        "ledger_id": row.ledger_id,
        "licence_no": row.licence_no,
        "licence_name": row.licence_name,
        "holder_name": row.holder_name,
        "holder_code": row.holder_code,
        "stage": stage,
        "expiry_date": as_date(row.expiry_date),
        "apply_by": deadline if deadline >= today else None,
        "title": title,
        "body": body,
        "body_sha256": hashlib.sha256(body.encode("utf-8")).hexdigest(),
        "run_id": run_id,
        "now": now,
    }


def close_finished(conn: Connection, *, today: dt.date) -> dict[str, int]:
    """Open prompts whose reminder was cancelled are withdrawn; those whose licence expired
    unacknowledged expire, their reminders ``failed`` (the lapsed report says why)."""
    rows = list(conn.execute(sql("prompts_to_close", conn), {"today": today}))
    if not rows:
        return {}
    now = local_now()
    counts: Counter[str] = Counter()
    closes, failed = [], []
    for row, seq in zip(rows, _take(conn, len(rows)), strict=True):
        if row.reminder_status == "queued":
            status, reason = "expired", "the licence expired before the prompt was acknowledged"
            failed.append(
                {
                    "id": row.reminder_id,
                    "reason": "in-system prompt not acknowledged before expiry",
                    "now": now,
                }
            )
        else:
            status, reason = (
                "withdrawn",
                f"reminder {row.reminder_status}: {row.reminder_reason or ''}".strip(": "),
            )
        closes.append(
            {"id": row.id, "status": status, "reason": reason[:200], "seq": seq, "now": now}
        )
        counts[f"prompts_{status}"] += 1
    conn.execute(sql("prompt_close", conn), closes)
    if failed:
        conn.execute(sql("reminder_prompt_expired", conn), failed)
    return dict(counts)


def _shown(row: Any) -> dict[str, Any]:
    def iso(v: Any) -> str | None:
        return None if v is None else str(v).replace(" ", "T")[:19]

    return {
        "id": row.id,
        "feed_seq": int(row.feed_seq),
        "status": row.status,
        "stage": int(row.stage),
        "licence_no": row.licence_no,
        "licence_name": row.licence_name,
        "holder_name": row.holder_name,
        "holder_code": row.holder_code,
        "expiry_date": iso(row.expiry_date)[:10],
        "apply_by": iso(row.apply_by) and iso(row.apply_by)[:10],
        "title": row.title,
        "body": row.body,
        "created_at": iso(row.created_at),
        "acknowledged_at": iso(row.acknowledged_at),
        "closed_reason": row.closed_reason,
    }


def _audit(
    row: Any, *, kind: str, outcome: str, started: dt.datetime, by: str, caller: str
) -> dict[str, Any]:
    return {
        "message_id": row.id,
        "attempt_no": 1,
        "kind": kind,
        "dept_code": row.dept_code,
        "channel": "prompt",
        "gateway": GATEWAY,
        "started_at": started,
        "finished_at": local_now(),
        "outcome": outcome,
        "response_code": None,
        "http_status": None,
        "provider_message_id": None,
        "request_id": by[:100] if by else None,
        "recipient_masked": f"{caller}: {mask_id(row.holder_code) if row.holder_code else row.licence_no}"[
            :64
        ],
        "body_sha256": row.body_sha256,
        "run_id": f"api:{caller}"[:250],
        "gateway_conn_id": None,
        "detail": None,
    }


def page(engine: Engine, dept_code: str, *, cursor: int, limit: int, caller: str) -> dict[str, Any]:
    """The department's prompts changed after ``cursor``, oldest change first; the first time a
    prompt is served is an audit row (``kind='pull'``, ``outcome='served'``)."""
    limit = max(1, min(int(limit), MAX_PAGE))
    started = local_now()
    with engine.begin() as conn:
        rows = list(
            conn.execute(
                sql("prompt_feed_page", conn),
                {"dept_code": dept_code, "cursor": cursor, "limit": limit + 1},
            )
        )
        more, rows = len(rows) > limit, rows[:limit]
        first = [r for r in rows if r.served_at is None]
        served = [
            r
            for r in first
            if conn.execute(sql("prompt_served", conn), {"id": r.id, "now": started}).rowcount
        ]
        if served:
            conn.execute(
                sql("attempt_insert", conn),
                [
                    _audit(r, kind="pull", outcome="served", started=started, by="", caller=caller)
                    for r in served
                ],
            )
    return {
        "prompts": [_shown(r) for r in rows],
        "next_cursor": str(int(rows[-1].feed_seq) if rows else cursor),
        "has_more": more,
    }


def acknowledge(
    engine: Engine, dept_code: str, ids: list[str], *, by: str, caller: str
) -> list[dict[str, Any]]:
    """Mark prompts as shown to their holder. Idempotent: a prompt already acknowledged answers
    ``acknowledged`` again and writes nothing; one withdrawn or expired says so; another
    department's or an unknown id is ``not_found``."""
    from sqlalchemy import bindparam

    started = local_now()
    out: dict[str, dict[str, Any]] = {
        i: {"id": i, "status": "not_found", "acknowledged": False} for i in ids
    }
    with engine.begin() as conn:
        query = sql("prompt_get", conn).bindparams(bindparam("ids", expanding=True))
        rows = {r.id: r for r in conn.execute(query, {"ids": ids, "dept_code": dept_code})}
        opened = [r for r in rows.values() if r.status == "open"]
        done: list[Any] = []
        if opened:
            for r, seq in zip(opened, _take(conn, len(opened)), strict=True):
                if conn.execute(
                    sql("prompt_ack", conn),
                    {
                        "id": r.id,
                        "dept_code": dept_code,
                        "by": by[:100],
                        "seq": seq,
                        "now": started,
                    },
                ).rowcount:
                    done.append(r)
        if done:
            figures.dispatch_changed(conn, [dept_code])
            conn.execute(
                sql("reminder_prompt_ack", conn),
                [
                    {
                        "reminder_id": r.reminder_id,
                        "reason": f"acknowledged by {caller}"[:500],
                        "now": started,
                    }
                    for r in done
                ],
            )
            conn.execute(
                sql("attempt_insert", conn),
                [
                    _audit(
                        r, kind="ack", outcome="acknowledged", started=started, by=by, caller=caller
                    )
                    for r in done
                ],
            )
        now_acknowledged = {r.id for r in done}
        for i, r in rows.items():
            status = "acknowledged" if i in now_acknowledged else r.status
            out[i] = {"id": i, "status": status, "acknowledged": status == "acknowledged"}
    return [out[i] for i in ids]


def counts_json(counts: dict[str, int]) -> str:
    return json.dumps(counts, sort_keys=True)
