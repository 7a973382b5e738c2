"""A department's daily sync: extract → validate → stage, then publish in one transaction.

Write–audit–publish. Staging tables (in the ledger database) take the valid rows whose content
differs from the ledger and every rejected row; ``publish`` then merges them set-based in a single
transaction together with quarantine, history, reminder cancellation and the watermark. A run that
fails anywhere leaves the ledger as it was.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
from collections import Counter
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

from licence_reminder.db import sql
from licence_reminder.errors import classify_db_error
from licence_reminder.records import CANONICAL_COLUMNS
from licence_reminder.registry import Catalogue, Department

if TYPE_CHECKING:
    import pandas as pd
    from sqlalchemy import Connection, Engine

log = logging.getLogger(__name__)

#: Business fields whose change is a change of the ledger row.
HASHED_COLUMNS = tuple(c for c in CANONICAL_COLUMNS if c != "source_updated_at")
_STAGE_BATCH = 5_000


@dataclass
class SyncPlan:
    run_id: str
    dept_code: str
    mode: str  # "incremental" or "full"
    watermark_from: dt.datetime | None

    def to_xcom(self) -> dict[str, Any]:
        d = asdict(self)
        d["watermark_from"] = self.watermark_from.isoformat() if self.watermark_from else None
        return d

    @classmethod
    def from_xcom(cls, d: dict[str, Any]) -> SyncPlan:
        wm = d.get("watermark_from")
        return cls(d["run_id"], d["dept_code"], d["mode"], dt.datetime.fromisoformat(wm) if wm else None)


@dataclass
class StageStats:
    rows_read: int = 0
    rows_valid: int = 0
    rows_rejected: int = 0
    staged: int = 0
    unchanged: int = 0
    vanished: int = 0
    watermark_to: str | None = None
    counts_by_rule: dict[str, int] = field(default_factory=dict)
    report_path: str | None = None


def now() -> dt.datetime:
    return dt.datetime.now().replace(microsecond=0)


def row_hash(record: dict[str, Any]) -> str:
    parts = []
    for col in HASHED_COLUMNS:
        v = record.get(col)
        parts.append("" if v is None else (v.isoformat() if hasattr(v, "isoformat") else str(v)))
    return hashlib.md5("\x1f".join(parts).encode("utf-8")).hexdigest()


def choose_mode(dept: Department, logical_date: dt.date, *, force_full: bool, has_watermark: bool) -> str:
    sync = dept.source.sync
    if force_full or sync.mode == "full" or not has_watermark:
        return "full"
    if sync.full_reconcile_weekday and logical_date.isoweekday() == sync.full_reconcile_weekday:
        return "full"
    return "incremental"


def register_department(engine: Engine, dept: Department, catalogue: Catalogue) -> None:
    """Mirror the department and its catalogue file into the ledger database."""
    ts = now()
    with engine.begin() as conn:
        conn.execute(sql("department_upsert", conn),
                     {"code": dept.code, "name": dept.name, "region_code": dept.region_code, "now": ts})
        conn.execute(
            sql("catalogue_upsert", conn),
            [
                {
                    "dept_code": dept.code,
                    **e.model_dump(),
                    "materials": json.dumps(e.materials, ensure_ascii=False),
                    "updated_at": ts,
                }
                for e in catalogue.entries
            ],
        )


def start_run(
    engine: Engine, dept: Department, *, run_id: str, logical_date: dt.date, force_full: bool = False
) -> SyncPlan:
    """Record the run, choose its mode, and clear what an earlier attempt of it staged."""
    with engine.begin() as conn:
        wm = conn.execute(sql("watermark_get", conn), {"dept_code": dept.code}).scalar()
        if isinstance(wm, str):
            wm = dt.datetime.fromisoformat(wm)
        mode = choose_mode(dept, logical_date, force_full=force_full, has_watermark=wm is not None)
        params = {"run_id": run_id, "dept_code": dept.code, "mode": mode, "now": now(),
                  "watermark_from": wm if mode == "incremental" else None}
        _clear_staging(conn, run_id, dept.code)
        updated = conn.execute(sql("sync_run_restart", conn), params).rowcount
        if not updated:
            conn.execute(sql("sync_run_start", conn), params)
    return SyncPlan(run_id, dept.code, mode, wm if mode == "incremental" else None)


def _clear_staging(conn: Connection, run_id: str, dept_code: str) -> None:
    for table in ("staging_licence", "staging_rejection", "staging_key"):
        conn.execute(sql(f"delete_{table}", conn), {"run_id": run_id, "dept_code": dept_code})


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    import pandas as pd

    out = frame.astype(object).where(pd.notna(frame), None).to_dict("records")
    return out


def extract_and_stage(
    ledger: Engine,
    source: Engine,
    dept: Department,
    catalogue: Catalogue,
    plan: SyncPlan,
    *,
    today: dt.date,
    limit: int | None = None,
) -> tuple[StageStats, Any]:
    """Stream the source, validate each chunk, stage what changed. Returns stats and the validator."""
    from licence_reminder.extract import stream_chunks
    from licence_reminder.validation.suite import Validator

    validator = Validator(catalogue_names={e.licence_name for e in catalogue.entries}, today=today)
    stats = StageStats()
    with ledger.connect() as conn:
        known = {r[0]: (r[1], r[2] is not None)
                 for r in conn.execute(sql("ledger_hashes", conn), {"dept_code": dept.code})}
        in_quarantine = {r[0] for r in conn.execute(sql("quarantine_open_keys", conn),
                                                    {"dept_code": dept.code})}
    seen: set[str] = set()
    max_wm: dt.datetime | None = None
    base = {"run_id": plan.run_id, "dept_code": dept.code}
    rejections_kept: list[Any] = []

    for chunk in stream_chunks(source, dept, watermark=plan.watermark_from, limit=limit):
        result = validator.validate(chunk)
        stats.rows_read += len(chunk)
        stats.rows_valid += len(result.valid)
        stats.rows_rejected += len(result.rejected)
        staged_rows = []
        for rec in _records(result.valid):
            no = rec["licence_no"]
            seen.add(no)
            wm = rec.get("source_updated_at")
            if wm is not None and (max_wm is None or wm > max_wm):
                max_wm = wm
            h = row_hash(rec)
            prior = known.get(no)
            if prior is not None and prior[0] == h and not prior[1] and no not in in_quarantine:
                stats.unchanged += 1
                continue
            # reminder dates are set from the catalogue by the merge (refresh_reminder_dates.sql)
            rec["first_reminder_on"] = rec["second_reminder_on"] = None
            rec["row_hash"] = h
            staged_rows.append({**base, **rec})
        rejected_rows = []
        for rej in result.rejected:
            if rej.licence_no:
                seen.add(rej.licence_no)
            # a rejected row still moves the watermark, unless its timestamp itself is bad
            bad_ts = any(f.column == "source_updated_at" for f in rej.failures)
            wm = None if bad_ts else _parse_wm(rej.raw.get("source_updated_at"))
            if wm is not None and (max_wm is None or wm > max_wm):
                max_wm = wm
            raw_json = json.dumps(rej.raw, ensure_ascii=False, default=str, sort_keys=True)
            key = rej.licence_no or "row:" + hashlib.md5(raw_json.encode()).hexdigest()
            rejected_rows.append({
                **base,
                "record_key": key[:80],
                "licence_no": rej.licence_no,
                "source_row": rej.row_number,
                "rules": ",".join(sorted({f.rule for f in rej.failures}))[:1000],
                "reasons": json.dumps([asdict(f) for f in rej.failures], ensure_ascii=False),
                "raw_values": raw_json,
            })
            if len(rejections_kept) < 500:
                rejections_kept.append(rej)
        _write_staging(ledger, staged_rows, rejected_rows, dept.code)
        stats.staged += len(staged_rows)

    if plan.mode == "full":
        gone = [no for no, (_, vanished) in known.items() if no not in seen and not vanished]
        stats.vanished = len(gone)
        _write_keys(ledger, [{**base, "licence_no": no, "kind": "vanished"} for no in gone], dept.code)
    stats.watermark_to = max_wm.isoformat(sep=" ") if max_wm else None
    stats.counts_by_rule = dict(validator.totals) if hasattr(validator, "totals") else {}
    return stats, (validator, rejections_kept)


def _parse_wm(value: Any) -> dt.datetime | None:
    if value is None:
        return None
    try:
        from licence_reminder.validation.rules import parse_datetime

        return parse_datetime(value)
    except (ValueError, TypeError):
        return None


def _write_staging(engine: Engine, rows: list[dict], rejections: list[dict], dept_code: str) -> None:
    from sqlalchemy.exc import SQLAlchemyError

    try:
        with engine.begin() as conn:
            for i in range(0, len(rows), _STAGE_BATCH):
                conn.execute(sql("staging_insert", conn), rows[i:i + _STAGE_BATCH])
            for i in range(0, len(rejections), _STAGE_BATCH):
                conn.execute(sql("staging_rejection_insert", conn), rejections[i:i + _STAGE_BATCH])
    except SQLAlchemyError as exc:
        raise classify_db_error(exc, what=f"department {dept_code}: staging in the ledger database") from exc


def _write_keys(engine: Engine, rows: list[dict], dept_code: str) -> None:
    if not rows:
        return
    with engine.begin() as conn:
        for i in range(0, len(rows), _STAGE_BATCH):
            conn.execute(sql("staging_key_insert", conn), rows[i:i + _STAGE_BATCH])


@dataclass
class PublishStats:
    inserted: int = 0
    updated: int = 0
    renewed: int = 0
    vanished: int = 0
    quarantined: int = 0
    quarantine_resolved: int = 0
    reminders_cancelled: int = 0


def publish(engine: Engine, plan: SyncPlan, stats: StageStats, *, fail_after: str | None = None) -> PublishStats:
    """Merge the run's staging into the ledger in ONE transaction.

    ``fail_after`` names a step after which to raise: used by tests to show that a failure part-way
    leaves the ledger unchanged.
    """
    from sqlalchemy.exc import SQLAlchemyError

    p = {"run_id": plan.run_id, "dept_code": plan.dept_code, "now": now()}
    out = PublishStats()
    try:
        with engine.begin() as conn:
            conn.execute(sql("history_changed", conn), p)
            out.renewed = conn.execute(sql("count_renewals", conn), p).scalar() or 0
            out.updated = conn.execute(sql("ledger_update_changed", conn), p).rowcount
            _maybe_fail(fail_after, "update")
            out.inserted = conn.execute(sql("ledger_insert_new", conn), p).rowcount
            conn.execute(sql("history_inserted", conn), p)
            if plan.mode == "full":
                conn.execute(sql("history_vanished", conn), p)
                out.vanished = conn.execute(sql("ledger_mark_vanished", conn), p).rowcount
            conn.execute(sql("refresh_reminder_dates", conn), {"dept_code": plan.dept_code})
            out.reminders_cancelled = conn.execute(sql("reminders_cancel_stale", conn), p).rowcount
            conn.execute(sql("outbox_cancel_orphaned", conn), p)
            out.quarantined = conn.execute(sql("quarantine_upsert", conn), p).rowcount
            out.quarantine_resolved = conn.execute(sql("quarantine_resolve_fixed", conn), p).rowcount
            if plan.mode == "full":
                out.quarantine_resolved += conn.execute(sql("quarantine_resolve_gone", conn), p).rowcount
            _maybe_fail(fail_after, "quarantine")
            if stats.watermark_to:
                conn.execute(sql("watermark_upsert", conn),
                             {**p, "watermark": dt.datetime.fromisoformat(stats.watermark_to)})
            conn.execute(sql("sync_run_finish", conn), {
                **p, "status": "success", "watermark_to": stats.watermark_to,
                "rows_read": stats.rows_read, "rows_valid": stats.rows_valid,
                "rows_rejected": stats.rows_rejected, "inserted": out.inserted,
                "updated": out.updated, "renewed": out.renewed, "vanished": out.vanished,
                "quarantine_resolved": out.quarantine_resolved,
                "counts_by_rule": json.dumps(stats.counts_by_rule, ensure_ascii=False),
                "error": None,
            })
            _clear_staging(conn, plan.run_id, plan.dept_code)
    except SQLAlchemyError as exc:
        raise classify_db_error(exc, what=f"department {plan.dept_code}: merge into the ledger") from exc
    return out


class InjectedFailure(RuntimeError):
    pass


def _maybe_fail(fail_after: str | None, step: str) -> None:
    if fail_after == step:
        raise InjectedFailure(f"injected failure after step {step!r}")


def fail_run(engine: Engine, run_id: str, error: str) -> None:
    with engine.begin() as conn:
        conn.execute(sql("sync_run_fail", conn), {"run_id": run_id, "now": now(), "error": error[:4000]})
