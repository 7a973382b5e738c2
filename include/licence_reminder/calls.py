"""Call tasks: the holders SMS could not reach, handed to the people who phone them (电话告知).

A reminder whose SMS cannot reach the holder — no usable mobile, a permanent refusal, a carrier's
"not delivered", a message left in doubt, a message no gateway would take — becomes a call task
of the licence's department on that day (:func:`open_tasks`, run by the dispatch). Staff record an
outcome (:data:`OUTCOMES`); every outcome is an append-only audit row (``call_outcome``), and a
holder reached by phone counts as reminded in the assessment's figures. A task nobody needs any
more (the holder applied to renew, the licence was renewed, revoked or is gone, a later SMS was
delivered, or it expired unworked) is closed by the dispatch, saying why (:func:`close_unneeded`).

This is the API the command line and the UI share. Lists show mobiles masked; a full mobile is
shown by :func:`reveal_mobile` or an unmasked export only, each recorded in
``personal_data_access``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from licence_reminder import figures
from licence_reminder.config import local_now
from licence_reminder.db import sql
from licence_reminder.errors import PermanentError
from licence_reminder.masking import mask_digit_runs, mask_mobile

if TYPE_CHECKING:
    from sqlalchemy import Connection, Engine

#: outcome -> (Chinese label, whether the holder was reached, whether the task is then done)
OUTCOMES: Mapping[str, tuple[str, bool, bool]] = {
    "reached_renewing": ("已联系，将办理延续", True, True),
    "reached_not_renewing": ("已联系，不再延续", True, True),
    "reached_already_renewed": ("已联系，已办理", True, True),
    "wrong_number": ("号码错误", False, True),
    "no_answer": ("无人接听，改日再拨", False, False),
    "closed": ("关闭（注明原因）", False, True),
}
#: why SMS failed, as call_tasks_open.sql classifies it -> Chinese label
REASONS: Mapping[str, str] = {
    "no_mobile": "无可用手机号码",
    "refused": "短信平台拒收",
    "undelivered": "运营商未送达",
    "in_doubt": "发送结果不明",
    "gateway_failing": "短信平台持续故障",
    "cannot_send": "短信内容无法发送",
    "no_consent": "未订阅小程序消息",
    "policy": "按提醒策略电话告知",
}
STATUS_LABELS: Mapping[str, str] = {
    "open": "待拨打",
    "retry": "改日再拨",
    "done": "已完成",
    "cancelled": "无需拨打",
}
#: a person's note is audit text: at most this long
NOTE_LENGTH = 500


class CallTaskError(PermanentError):
    """A call task that does not exist, or an outcome it cannot take; the message says which."""


def open_tasks(engine: Engine, *, today: dt.date, run_id: str) -> int:
    """Call tasks for every reminder SMS could not deliver that has none yet. Idempotent."""
    with engine.begin() as conn:
        return conn.execute(
            sql("call_tasks_open", conn), {"today": today, "run_id": run_id, "now": local_now()}
        ).rowcount


def close_unneeded(engine: Engine, *, today: dt.date) -> dict[str, int]:
    """Close the open call tasks nobody needs to work any more, each with the reason."""
    from collections import Counter

    from licence_reminder.dispatch import as_date
    from licence_reminder.policy import APPLICATION_WINDOW

    closed: Counter[str] = Counter()
    now = local_now()
    with engine.begin() as conn:
        for t in list(conn.execute(sql("call_tasks_unfinished", conn))):
            expiry, applied = as_date(t.expiry_date), as_date(t.renewal_applied_on)
            assert expiry is not None
            if t.vanished_at is not None:
                reason = "licence no longer in the source"
            elif t.status != "valid":
                reason = f"licence {t.status}"
            elif as_date(t.ledger_expiry) != expiry:
                reason = "licence renewed (a new expiry date)"
            elif applied is not None and applied > expiry - APPLICATION_WINDOW:
                reason = "renewal application received"
            elif t.later_sent:
                reason = "a later reminder reached the gateway"
            elif expiry < today:
                reason = "licence expired before anyone called"
            else:
                continue
            closed[reason] += conn.execute(
                sql("call_task_cancel", conn), {"id": t.id, "reason": reason, "now": now}
            ).rowcount
    return dict(closed)


@dataclass(frozen=True)
class Filter:
    dept_code: str | None = None
    open_only: bool = False
    #: only tasks to be worked on or before this day (their reminder day, or the day to try again)
    due_before: dt.date | None = None


def _params(f: Filter, **more: Any) -> dict[str, Any]:
    return {
        "dept_code": f.dept_code,
        "open_only": int(f.open_only),
        "due_before": f.due_before,
        "task_id": None,
        "limit": 1_000_000,
        "offset": 0,
        **more,
    }


def _shown(row: Mapping[str, Any]) -> dict[str, Any]:
    """A task as people see it: the mobile masked, labels beside the codes."""
    out = dict(row)
    mobile = out.pop("contact_mobile")
    out["mobile_masked"] = mask_mobile(mobile) if mobile else None
    out["has_mobile"] = bool(mobile)
    out["reason_label"] = REASONS.get(out["reason_code"], out["reason_code"])
    out["status_label"] = STATUS_LABELS.get(out["status"], out["status"])
    out["outcome_label"] = OUTCOMES[out["outcome"]][0] if out.get("outcome") in OUTCOMES else None
    for key in ("expiry_date", "due_on", "next_try_on"):
        day = out.get(key)
        out[key] = None if day is None else str(day)[:10]
    return out


def list_tasks(
    engine: Engine, f: Filter = Filter(), *, limit: int = 200, offset: int = 0
) -> list[dict[str, Any]]:
    """Call tasks, soonest expiry first, mobiles masked."""
    with engine.connect() as conn:
        rows = conn.execute(
            sql("call_task_list", conn), _params(f, limit=limit, offset=offset)
        ).mappings()
        return [_shown(r) for r in rows]


def count_tasks(engine: Engine, f: Filter = Filter()) -> int:
    with engine.connect() as conn:
        return int(conn.execute(sql("call_task_count", conn), _params(f)).scalar() or 0)


def _task_row(conn: Connection, task_id: int) -> Mapping[str, Any]:
    row = (
        conn.execute(
            sql("call_task_list", conn), {**_params(Filter()), "task_id": task_id, "limit": 1}
        )
        .mappings()
        .first()
    )
    if row is None:
        raise CallTaskError(f"no call task {task_id}")
    return row


def get_task(engine: Engine, task_id: int) -> dict[str, Any]:
    """One call task with every outcome recorded on it (mobile masked)."""
    with engine.connect() as conn:
        task = _shown(_task_row(conn, task_id))
        task["history"] = [
            {
                **dict(o),
                "outcome_label": OUTCOMES.get(o.outcome, (o.outcome,))[0],
                "retry_on": None if o.retry_on is None else str(o.retry_on)[:10],
            }
            for o in conn.execute(
                sql("call_outcomes_of_task", conn), {"task_id": task_id}
            ).mappings()
        ]
    return task


def record_access(
    conn: Connection,
    *,
    by: str,
    via: str,
    dept_code: str | None,
    subject: str,
    fields: str,
    rows: int = 1,
) -> None:
    conn.execute(
        sql("personal_data_access_insert", conn),
        {
            "now": local_now(),
            "accessed_by": by[:250],
            "via": via[:64],
            "dept_code": dept_code,
            "subject": subject[:100],
            "fields": fields,
            "row_count": rows,
        },
    )


def reveal_mobile(engine: Engine, task_id: int, *, by: str, via: str) -> str | None:
    """The task's full mobile, for the person about to phone; recorded (who, when, which task)."""
    with engine.begin() as conn:
        row = _task_row(conn, task_id)
        record_access(
            conn,
            by=by,
            via=via,
            dept_code=row["dept_code"],
            subject=f"call_task:{task_id}",
            fields="contact_mobile",
        )
        return row["contact_mobile"]


def record_outcome(
    engine: Engine,
    task_id: int,
    outcome: str,
    *,
    by: str,
    note: str | None = None,
    retry_on: dt.date | None = None,
    today: dt.date | None = None,
) -> dict[str, Any]:
    """Record what a call achieved; the task is done, or (no answer) to be tried again on
    ``retry_on`` (default: the next day). ``closed`` needs a note saying why. Returns the task."""
    if outcome not in OUTCOMES:
        raise CallTaskError(f"outcome {outcome!r} is not one of {', '.join(OUTCOMES)}")
    if not by.strip():
        raise CallTaskError("who recorded the outcome must be given")
    note = mask_digit_runs(note.strip())[:NOTE_LENGTH] if note and note.strip() else None
    if outcome == "closed" and not note:
        raise CallTaskError("closing a call task needs a note saying why (--note)")
    today = today or local_now().date()
    done = OUTCOMES[outcome][2]
    if done and retry_on is not None:
        raise CallTaskError(f"--retry-on goes with no_answer only, not {outcome}")
    if not done:
        retry_on = retry_on or today + dt.timedelta(days=1)
        if retry_on <= today:
            raise CallTaskError(f"the day to try again ({retry_on}) must be after today ({today})")
    now = local_now()
    with engine.begin() as conn:
        row = _task_row(conn, task_id)
        changed = conn.execute(
            sql("call_task_record", conn),
            {
                "task_id": task_id,
                "status": "done" if done else "retry",
                "outcome": outcome,
                "retry_on": retry_on,
                "closed_at": now if done else None,
                "now": now,
            },
        ).rowcount
        if not changed:
            raise CallTaskError(
                f"call task {task_id} is {row['status']} "
                f"({row['closed_reason'] or row['outcome'] or 'closed'}): it takes no more outcomes"
            )
        figures.dispatch_changed(conn, [row["dept_code"]])
        conn.execute(
            sql("call_outcome_insert", conn),
            {
                "task_id": task_id,
                "dept_code": row["dept_code"],
                "outcome": outcome,
                "note": note,
                "retry_on": retry_on,
                "recorded_by": by.strip()[:250],
                "now": now,
            },
        )
    return get_task(engine, task_id)


#: the call list's columns (Chinese header, task key), in the attachment-2 spirit
EXPORT_COLUMNS = (
    ("任务编号", "id"),
    ("部门", "dept_name"),
    ("证照持有单位(个人)", "holder_name"),
    ("证照名称", "licence_name"),
    ("证照编号", "licence_no"),
    ("期满日期", "expiry_date"),
    ("提醒阶段", "stage"),
    ("联系人", "contact_name"),
    ("联系人手机号码", "mobile"),
    ("短信未送达原因", "reason_label"),
    ("说明", "reason"),
    ("咨询电话", "service_phone"),
    ("状态", "status_label"),
    ("最近结果", "outcome_label"),
    ("改日再拨日期", "next_try_on"),
)


def export_xlsx(
    engine: Engine,
    out: Path,
    f: Filter,
    *,
    by: str,
    unmasked: bool = False,
    via: str = "calls export --unmasked",
) -> int:
    """The tasks as an XLSX call list; full mobiles only when ``unmasked`` (recorded, ``via``
    naming where the export was asked for)."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    with engine.begin() as conn:
        rows = list(conn.execute(sql("call_task_list", conn), _params(f)).mappings())
        if unmasked and rows:
            record_access(
                conn,
                by=by,
                via=via,
                dept_code=f.dept_code,
                subject="call list export",
                fields="contact_mobile",
                rows=len(rows),
            )
    wb = Workbook()
    ws = wb.active
    ws.title = "电话告知清单"
    ws.append([header for header, _ in EXPORT_COLUMNS])
    for cell in ws[1]:
        cell.font = Font(bold=True)
    for r in rows:
        shown = _shown(r)
        shown["mobile"] = (
            (r["contact_mobile"] or "") if unmasked else (shown["mobile_masked"] or "")
        )
        ws.append([shown.get(key) for _, key in EXPORT_COLUMNS])
    out.parent.mkdir(parents=True, exist_ok=True)
    wb.save(out)
    return len(rows)
