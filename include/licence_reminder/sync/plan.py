"""Before a department's run (its DAG's first task): the department and its catalogue mirrored
into the ledger database, the run recorded, its mode chosen (full or incremental) and where its
extract starts (:class:`~licence_reminder.sync.flow.SyncPlan`); and a failed run recorded as such.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from typing import TYPE_CHECKING, Any

from licence_reminder.config import local_now
from licence_reminder.db import sql
from licence_reminder.errors import classify_db_error
from licence_reminder.leads import refresh_ledger_dates
from licence_reminder.registry import Catalogue, Department
from licence_reminder.sync.flow import SyncPlan
from licence_reminder.sync.liveness import close_stale

if TYPE_CHECKING:
    from sqlalchemy import Engine

log = logging.getLogger(__name__)


def choose_mode(
    dept: Department, logical_date: dt.date, *, force_full: bool, has_watermark: bool
) -> str:
    sync = dept.source.sync
    if force_full or sync.mode == "full" or not has_watermark:
        return "full"
    if sync.full_reconcile_weekday and logical_date.isoweekday() == sync.full_reconcile_weekday:
        return "full"
    return "incremental"


def register_department(engine: Engine, dept: Department, catalogue: Catalogue) -> None:
    """Mirror the department and its catalogue file into the ledger database.

    Staged rows carry reminder dates computed from the catalogue, so the ledger's dates need
    recomputing only when a lead time changes: then here, with the catalogue, in one transaction.
    """
    ts = local_now()
    with engine.begin() as conn:
        stored = {
            tuple(r) for r in conn.execute(sql("catalogue_leads", conn), {"dept_code": dept.code})
        }
        leads_changed = bool(
            {
                (e.licence_name, e.first_lead_days, e.second_lead_days, e.lead_rule())
                for e in catalogue.entries
            }
            - stored
        )
        conn.execute(
            sql("department_upsert", conn),
            {"code": dept.code, "name": dept.name, "region_code": dept.region_code, "now": ts},
        )
        conn.execute(
            sql("catalogue_upsert", conn),
            [
                {
                    "dept_code": dept.code,
                    **e.model_dump(),
                    "materials": json.dumps(e.materials, ensure_ascii=False),
                    "code": e.entry_code,
                    "lead_rule": e.lead_rule(),
                    "channels": e.channels.to_mirror(),
                    "updated_at": ts,
                }
                for e in catalogue.entries
            ],
        )
        if leads_changed:
            refresh_ledger_dates(conn, dept.code, catalogue)


def start_run(
    engine: Engine,
    dept: Department,
    *,
    run_id: str,
    logical_date: dt.date,
    force_full: bool = False,
) -> SyncPlan:
    """Close the department's runs that stopped beating (:mod:`~licence_reminder.sync.liveness`),
    record the run and choose its mode."""
    now = local_now()
    with engine.begin() as conn:
        close_stale(conn, dept.code, run_id=run_id, now=now)
        wm, read_at = (
            _as_datetime(v)
            for v in (
                conn.execute(sql("watermark_get", conn), {"dept_code": dept.code}).first()
                or (None, None)
            )
        )
        mode = choose_mode(dept, logical_date, force_full=force_full, has_watermark=wm is not None)
        params = {
            "run_id": run_id,
            "dept_code": dept.code,
            "mode": mode,
            "now": now,
            "watermark_from": wm if mode == "incremental" else None,
        }
        updated = conn.execute(sql("sync_run_restart", conn), params).rowcount
        if not updated:
            conn.execute(sql("sync_run_start", conn), params)
    return SyncPlan(
        run_id,
        dept.code,
        mode,
        wm if mode == "incremental" else None,
        dept.source.sync.watermark_lookback_seconds,
        read_at,
    )


def _as_datetime(value: Any) -> dt.datetime | None:
    return dt.datetime.fromisoformat(value) if isinstance(value, str) else value


def fail_run(engine: Engine, run_id: str, error: str) -> None:
    """Record the run as failed with ``error``. A ledger that cannot be reached (the very failure,
    often) is said in one line and not raised: the run's own error is what the task must end with,
    and the department's next run closes the row when it finds its heartbeat stale."""
    from sqlalchemy.exc import SQLAlchemyError

    try:
        with engine.begin() as conn:
            conn.execute(
                sql("sync_run_fail", conn),
                {"run_id": run_id, "now": local_now(), "error": error[:4000]},
            )
    except SQLAlchemyError as exc:
        code = run_id.split(":", 1)[0]
        log.warning(
            "%s; the department's next run closes it as failed (no heartbeat)",
            classify_db_error(
                exc,
                what=f"department {code}: ledger database: the run's failure could not be recorded",
            ),
        )
