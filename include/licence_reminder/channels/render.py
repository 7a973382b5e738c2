"""A day's planned reminders of the channels beside SMS, written before anything is sent.

- ``call``: on the call list at once (reason ``policy``): the entry's policy phones every holder at
  this stage; ``calls.open_tasks`` makes the task.
- ``prompt``: a prompt for the department's business system to pull (``prompts``).
- ``miniprogram``: an outbox message to the holder's openid under a consent they gave
  (``consent``), its data checked against WeChat's field rules first; without a usable consent the
  reminder is ``unreachable`` (the stage's other channels, or a call task, carry it). A broken or
  missing WeChat connection, or an entry and stage its ``templates`` do not cover, holds the
  reminders (planned) and fails the run, as a broken SMS connection does.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import uuid
from collections import Counter, defaultdict
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from licence_reminder.channels import CALL, MINIPROGRAM, MINIPROGRAM_SHARD, PROMPT
from licence_reminder.config import local_now
from licence_reminder.db import sql

if TYPE_CHECKING:
    from sqlalchemy import Connection, Engine

    from licence_reminder.channels.wechat import WeChatConfig, WeChatTemplate

NO_CONSENT = "no mini-program consent: the holder has not subscribed to the reminder template"


def render_channels(
    engine: Engine, *, today: dt.date, run_id: str, wechat: Callable[[], WeChatConfig]
) -> dict[str, Any]:
    """Counts of what was written; ``held``: why reminders of a department stayed planned."""
    from licence_reminder.channels import prompts

    counts: Counter[str] = Counter()
    held: dict[str, str] = {}
    with engine.begin() as conn:
        now = local_now()
        calls = [
            {
                "reminder_id": r.reminder_id,
                "reason": "policy: every holder is phoned at this stage",
                "now": now,
            }
            for r in conn.execute(sql("dispatch_to_render", conn), {"channel": CALL})
        ]
        if calls:
            counts["call_reminders"] = conn.execute(sql("reminder_reject", conn), calls).rowcount
        counts.update(prompts.close_finished(conn, today=today))
        written = [
            _prompt(r, today=today, run_id=run_id, now=now)
            for r in conn.execute(sql("dispatch_to_render", conn), {"channel": PROMPT})
        ]
        prompts.write(conn, written)
        if written:
            counts["prompts_written"] = len(written)
        mini = _miniprogram(conn, today=today, run_id=run_id, wechat=wechat, held=held)
        counts.update(mini)
    out: dict[str, Any] = {k: v for k, v in counts.items() if v}
    return {**out, "held": held} if held else out


def _entry(row: Any) -> tuple[Any, dt.date]:
    from licence_reminder.dispatch import as_date, entry_from_mirror
    from licence_reminder.leads import EntryDates

    entry = entry_from_mirror(row)
    expiry = as_date(row.expiry_date)
    assert expiry is not None
    return entry, EntryDates(entry).deadline(expiry)


def _prompt(row: Any, *, today: dt.date, run_id: str, now: dt.datetime) -> dict[str, Any]:
    from licence_reminder.channels.prompts import new_prompt

    entry, deadline = _entry(row)
    return new_prompt(
        row, entry, stage=int(row.stage), deadline=deadline, today=today, run_id=run_id, now=now
    )


def miniprogram_values(row: Any, entry: Any, deadline: dt.date, today: dt.date) -> dict[str, str]:
    """What a mini-program template's fields may be filled with (``wechat.VALUES``)."""
    from licence_reminder.dispatch import as_date
    from licence_reminder.render import apply_by, chinese_date, licence_tail

    expiry = as_date(row.expiry_date)
    assert expiry is not None
    when = apply_by(deadline, today)
    stage = int(row.stage)
    return {
        "licence_name": row.licence_name,
        "licence_no": row.licence_no,
        "licence_no_tail": licence_tail(row.licence_no, entry.licence_no_digits or 6),
        "holder": row.holder_name or "您",
        "expiry": chinese_date(expiry),
        "days": str((expiry - today).days),
        "apply_by": when,
        "tip": (f"请于{when}申请延续" if deadline > today else "请尽快申请延续")
        if stage == 1
        else (entry.sms_consequences or "逾期将影响经营，请尽快办理"),
        "stage": "首次提醒" if stage == 1 else "再次提醒",
        "dept": row.dept_name,
        "phone": entry.service_phone,
    }


def _miniprogram(
    conn: Connection,
    *,
    today: dt.date,
    run_id: str,
    wechat: Callable[[], WeChatConfig],
    held: dict[str, str],
) -> dict[str, int]:
    from licence_reminder.channels import consent
    from licence_reminder.channels.wechat import TemplateDataRejected, check_data, mask_openid

    rows = list(conn.execute(sql("dispatch_to_render", conn), {"channel": MINIPROGRAM}))
    if not rows:
        return {}
    counts: Counter[str] = Counter()
    try:
        cfg = wechat()
    except Exception as exc:  # noqa: BLE001 - whatever is wrong with the connection, hold only this channel
        for dept in {r.dept_code for r in rows}:
            held[f"{dept} (mini-program)"] = f"{type(exc).__name__}: {exc}"
        return {"reminders_held": len(rows)}
    offers: dict[int, list[Any]] = defaultdict(list)
    for c in conn.execute(sql("consent_candidates", conn)):
        offers[c.reminder_id].append(c)
    now = local_now()
    taken: set[int] = set()
    messages, unreachable, rejected, missing = [], [], [], defaultdict(set)
    for row in rows:
        entry, deadline = _entry(row)
        template: WeChatTemplate | None = cfg.template_for(
            row.dept_code, entry.entry_code, int(row.stage)
        )
        name = f"{row.dept_code}.{entry.entry_code}.stage{int(row.stage)}"
        if template is None:
            missing[row.dept_code].add(name)
            counts["reminders_held"] += 1
            continue
        values = miniprogram_values(row, entry, deadline, today)
        data = {key: values[value] for key, value in template.data.items()}
        try:
            check_data(name, data)
        except TemplateDataRejected as exc:
            rejected.append({"reminder_id": row.reminder_id, "reason": str(exc)[:500], "now": now})
            continue
        message_id = uuid.uuid4().hex
        chosen = None
        for c in offers.get(row.reminder_id, []):
            if c.template_id != template.template_id or c.id in taken and c.kind == "one_time":
                continue
            if c.kind == "long_term" or (
                not c.reserved and consent.reserve(conn, c.id, message_id, now)
            ):
                chosen = c
                break
        if chosen is None:
            unreachable.append({"reminder_id": row.reminder_id, "reason": NO_CONSENT, "now": now})
            continue
        taken.add(chosen.id)
        body = "\n".join(f"{k}: {v}" for k, v in data.items())
        messages.append(
            {
                "id": message_id,
                "dept_code": row.dept_code,
                "channel": MINIPROGRAM,
                "gateway": "wechat",
                "gateway_conn_id": cfg.conn_id,
                "recipient": chosen.openid,
                "recipient_masked": mask_openid(chosen.openid),
                "template_name": name,
                "template_code": template.template_id,
                "params": json.dumps(data, ensure_ascii=False),
                "body": body,
                "body_sha256": hashlib.sha256(body.encode("utf-8")).hexdigest(),
                "body_length": len(body),
                "segments": 0,
                "shard": MINIPROGRAM_SHARD,
                "status": "pending",
                "attempts": 0,
                "consent_id": chosen.id,
                "run_id": run_id,
                "now": now,
                "reminder_id": row.reminder_id,
            }
        )
    if messages:
        conn.execute(sql("outbox_insert_miniprogram", conn), messages)
        conn.execute(
            sql("reminder_queue", conn),
            [
                {"reminder_id": m["reminder_id"], "message_id": m["id"], "now": now}
                for m in messages
            ],
        )
    if unreachable:
        conn.execute(sql("reminder_unreachable", conn), unreachable)
    if rejected:
        conn.execute(sql("reminder_reject", conn), rejected)
    for dept, names in missing.items():
        held[f"{dept} (mini-program)"] = (
            f"connection {cfg.conn_id!r} has no template for {', '.join(sorted(names))} in extra.templates "
            "(nor <department>.stage<n>, stage<n> or default): add the WeChat template that carries it"
        )
    counts.update(
        miniprogram_messages=len(messages),
        miniprogram_no_consent=len(unreachable),
        miniprogram_rejected=len(rejected),
    )
    return dict(counts)
