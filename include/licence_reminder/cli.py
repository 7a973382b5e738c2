"""``python -m licence_reminder.cli`` — the product's command line.

    db upgrade                 apply the schema migrations to the ledger database
    summary [--json] [--live]  per-department figures: extracted, rejected, ledger, reminders, sent
    connector check FILE       validate a department file, run its extract with a row limit,
                               and report what would be rejected — writes nothing
    quarantine --dept CODE     a department's rejected rows (not loaded): every rule failed, masked
    warnings --dept CODE       a department's licences loaded with warnings: please fix at the source
    calls list|show|record|export
                               call tasks: holders SMS could not reach, for staff to phone
    lapsed                     licences that expired without a warning that reached the holder, why
    catalogue publish          public web pages + CSV/XLSX of every catalogue (attachment 1)
    catalogue check [FILE]     the catalogues' SMS templates against each provider's caps, and
                               their reminder dates against the renewal deadlines
    catalogue templates        per catalogue entry and stage: the SMS template to submit to each
                               provider for approval, and its variables
    ledger export              the ledger as XLSX (attachment 2), IDs and mobiles masked
    pii status                 identity numbers at rest: rows per digest key, any left in clear
    pii find [--dept CODE]     the licences of an identity number read from the terminal (audited)
    department retire CODE     take a department whose file was removed out of the reminders
    hold list [--all]          departments held from dispatch because their data is stale
    hold release CODE --note   dispatch a held department from the data it has (recorded)

The ledger database is the Airflow connection named by LR_LEDGER_CONN_ID (default
``licence_ledger``), or ``--url`` for a SQLAlchemy URL.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from licence_reminder.calls import OUTCOMES
from licence_reminder.config import Settings, city_zone, local_now
from licence_reminder.errors import PermanentError, redact_values
from licence_reminder.records import SOURCE_KEY


def _ledger(args: argparse.Namespace):  # type: ignore[no-untyped-def]
    from licence_reminder.db import engine_for, engine_from_url

    if getattr(args, "url", None):
        return engine_from_url(args.url)
    return engine_for(Settings.from_env().ledger_conn_id)


def cmd_db_upgrade(args: argparse.Namespace) -> int:
    from licence_reminder import schema

    rev = schema.upgrade(_ledger(args))
    print(f"ledger schema at revision {rev}")
    return 0


def department_summary(
    engine: Any, *, price: float | None = None, today: dt.date | None = None, live: bool = False
) -> list[dict[str, Any]]:
    """Per department: the summary's figures, and ``sms``: the length of the messages written in
    the last 365 days in billed segments, what those accepted cost and what a year ahead may cost
    at ``price`` yuan a segment (LR_SMS_PRICE).

    The counts are those last taken at the department's sync and the dispatch (``figures``;
    ``figures_taken_at`` says when, per part); a part never taken is counted live for that
    department. ``live``: count every department live, whatever was taken (slow at scale)."""
    from licence_reminder.db import sql

    price = Settings.from_env().sms_price if price is None else price
    today = today or local_now().date()
    window = {
        "since": dt.datetime.combine(today - dt.timedelta(days=365), dt.time()),
        "since_day": today - dt.timedelta(days=365),
        "today": today,
        "until": today + dt.timedelta(days=365),
    }
    from licence_reminder.alerts import holds

    held = {h["dept_code"]: h for h in holds(engine)}
    out = []
    with engine.connect() as conn:
        departments = _live_figures(conn, window) if live else _kept_figures(conn, window)
        for row, lengths, expiring in departments:
            last = (
                conn.execute(sql("summary_last_sync", conn), {"dept_code": row["code"]})
                .mappings()
                .first()
            )
            row["last_sync"] = dict(last) if last else None
            row["sms"] = _sms_figures(lengths, expiring, price)
            row["channels"] = row.pop("channels")
            row["hold"] = held.get(row["code"])
            row["figures_taken_at"] = row.pop("figures_taken_at")
            out.append(row)
    return out


def _kept_figures(
    conn: Any, window: dict[str, Any]
) -> Iterator[tuple[dict[str, Any], list[Any], int]]:
    """Per department: its counts, the lengths of its messages in the window and its licences
    expiring in it — from the figures last taken, or counted live for a part never taken."""
    from types import SimpleNamespace

    from licence_reminder import figures
    from licence_reminder.db import sql

    kept = conn.execute(sql("summary_figures", conn)).mappings().all()
    expiring = {
        r.dept_code: int(r.licences)
        for r in conn.execute(sql("summary_expiring_figures", conn), window)
    }
    lengths: dict[str, list[Any]] = {}
    for r in conn.execute(sql("summary_segments_figures", conn), window):
        lengths.setdefault(r.dept_code, []).append(r)
    # the same keys in the same order whether a part was kept or counted just now
    named = figures.LEDGER + figures.DISPATCH
    for d in kept:
        code = d["code"]
        counts: dict[str, int] = {}
        if d["ledger_taken_at"] is None:
            ledger = figures.take_ledger(conn, code)
            counts.update(ledger.counts)
            expires = ledger.expiring_between(window["today"], window["until"])
        else:
            counts.update({k: int(d[k] or 0) for k in figures.LEDGER})
            expires = expiring.get(code, 0)
        if d["dispatch_taken_at"] is None:
            dispatch = figures.take_dispatch(conn, code)
            counts.update(dispatch.counts)
            channels = dispatch.channels
            by_length: dict[int, list[int]] = {}
            for s in dispatch.segments:
                if s.created_on >= window["since_day"]:
                    n = by_length.setdefault(s.segments, [0, 0])
                    n[0] += s.messages
                    n[1] += s.accepted
            mine = [
                SimpleNamespace(segments=k, messages=m, accepted=a)
                for k, (m, a) in by_length.items()
            ]
        else:
            counts.update({k: int(d[k] or 0) for k in figures.DISPATCH})
            channels = json.loads(d["channels"] or "{}")
            mine = lengths.get(code, [])
        row = {"code": code, "name": d["name"], **{k: counts[k] for k in named}}
        row["channels"] = channels
        row["figures_taken_at"] = {
            "ledger": d["ledger_taken_at"],
            "dispatch": d["dispatch_taken_at"],
        }
        yield row, mine, expires


def _live_figures(
    conn: Any, window: dict[str, Any]
) -> Iterator[tuple[dict[str, Any], list[Any], int]]:
    """The same, every table counted now over every department (what the figures stand for)."""
    from licence_reminder import figures
    from licence_reminder.db import sql

    lengths: dict[str, list[Any]] = {}
    for r in conn.execute(sql("summary_segments", conn), window):
        lengths.setdefault(r.dept_code, []).append(r)
    expiring = {
        r.dept_code: int(r.licences) for r in conn.execute(sql("summary_expiring", conn), window)
    }
    channels: dict[str, dict[str, dict[str, int]]] = {}
    for r in conn.execute(sql("summary_channels", conn)):
        channels.setdefault(r.dept_code, {})[r.channel] = {
            k: int(getattr(r, k) or 0) for k in figures.CHANNEL_FIGURES
        }
    for d in conn.execute(sql("summary_departments", conn)).mappings().all():
        row = dict(d)
        row["channels"] = channels.get(d["code"], {})
        row["figures_taken_at"] = {"ledger": None, "dispatch": None}
        yield row, lengths.get(d["code"], []), expiring.get(d["code"], 0)


def _sms_figures(lengths: list[Any], expiring: int, price: float) -> dict[str, Any]:
    messages = sum(int(r.messages) for r in lengths)
    segments = sum(int(r.messages) * int(r.segments) for r in lengths)
    billed = sum(int(r.accepted or 0) * int(r.segments) for r in lengths)
    mean = segments / messages if messages else 2.0  # none yet: a template's target
    return {
        "price": price,
        "messages": messages,
        "by_segments": {
            int(r.segments): int(r.messages) for r in sorted(lengths, key=lambda r: r.segments)
        },
        "segments_billed": billed,
        "cost_last_365_days": round(billed * price, 2),
        "expiring_next_365_days": expiring,
        # each licence is reminded at most twice a cycle
        "cost_next_365_days_at_most": round(expiring * 2 * mean * price, 2),
    }


def _top_reasons(counts_json: str | None, n: int = 3) -> str:
    if not counts_json:
        return "-"
    counts = Counter(json.loads(counts_json))
    rules = {
        k: v
        for k, v in counts.items()
        if k not in {"rows", "valid", "rejected", "warned"} and not k.startswith("warn:")
    }
    return ", ".join(f"{k} ×{v}" for k, v in Counter(rules).most_common(n)) or "-"


def cmd_summary(args: argparse.Namespace) -> int:
    rows = department_summary(_ledger(args), price=args.price, live=args.live)
    if args.json:
        print(json.dumps(rows, ensure_ascii=False, default=str, indent=2))
        return 0
    if not rows:
        print("no department in the ledger database yet: a department appears at its first sync")
        return 0
    for r in rows:
        s = r["last_sync"] or {}
        print(f"{r['code']:<8} {r['name']}")
        merged = (
            (
                f"; inserted {s.get('inserted', 0)}, updated {s.get('updated', 0)}, "
                f"{s.get('vanished', 0)} gone from the source"
            )
            if s.get("status") == "success"
            else ""
        )
        when = f" at {str(s['finished_at'])[:19]}" if s.get("finished_at") else ""
        if s.get("mode") == "retire" and s.get("status") == "success":
            print(f"  retired     :{when}: its licences are kept, marked gone, and not reminded")
        else:
            finished = (
                dt.datetime.fromisoformat(str(s["finished_at"])[:19])
                if s.get("finished_at")
                else None
            )
            if finished is not None and local_now() - finished > dt.timedelta(hours=26):
                when += " (over a day ago: is its DAG paused, or failing before it starts — a config-error?)"
            print(
                f"  last sync   : {s.get('status', 'never')} ({s.get('mode', '-')}){when}, "
                f"extracted {s.get('rows_read', 0)}, not loaded {s.get('rows_rejected', 0)} "
                f"[top reasons: {_top_reasons(s.get('counts_by_rule'))}], loaded with warnings "
                f"{s.get('rows_warned', 0)}{merged}"
            )
        if s.get("status") == "failed" and s.get("error"):
            why = redact_values(str(s["error"]))
            print(
                f"  why         : {why if len(why) <= 400 else why[:400].rsplit(' ', 1)[0] + ' …'}"
            )
        if r["hold"]:
            print(
                f"  HELD        : since {str(r['hold']['held_at'])[:16]}, {r['hold']['reason']}: its "
                f"reminders stay planned until it syncs or `hold release {r['code']}`"
            )
        active = r["in_ledger"] - r["revoked"] - r["cancelled"] - r["vanished"]
        print(
            f"  ledger      : {r['in_ledger']} licences ({active} valid, {r['revoked']} revoked, "
            f"{r['cancelled']} cancelled, {r['vanished']} gone from the source), "
            f"{r['in_quarantine']} rows in quarantine (not loaded), {r['with_warnings']} licences with "
            f"warnings (loaded, please fix)"
        )
        print(
            f"  reminders   : {r['reminders']} due to date ({r['reminders_cancelled']} cancelled)"
        )
        print(
            f"  messages    : {r['messages_sent']} sent ({r['messages_delivered']} delivered), "
            f"{r['messages_failed']} failed "
            f"(on the call list), {r['messages_pending']} pending; {r['gateway_calls']} gateway calls"
        )
        print(
            f"  phone calls : {r['call_tasks']} call tasks, {r['calls_open']} to be worked, "
            f"{r['calls_reached']} holders reached"
        )
        print(f"  channels    : {_channels_line(r['channels'])}")
        print(f"  SMS length  : {_sms_line(r['sms'])}")
        print(f"  figures     : {_taken_line(r['figures_taken_at'])}")
    if len(rows) > 1:
        city = _sms_city(rows)
        print(f"all departments: {_sms_line(city)}")
    return 0


def _taken_line(taken: dict[str, Any]) -> str:
    """When the counts above were taken: at the department's last sync (the ledger) and the last
    dispatch (reminders, messages, calls); holds and the last sync are always read now."""

    def when(part: str) -> str:
        at = taken.get(part)
        return f"as of {str(at)[:19]}" if at else "counted now"

    return f"ledger {when('ledger')}, reminders and messages {when('dispatch')}"


#: how each channel's reminders read in the summary: (reached, waiting, failed, unreachable)
_CHANNEL_WORDS = {
    "sms": ("sent", "waiting", "failed", "-"),
    "miniprogram": ("sent", "waiting", "failed", "no consent"),
    "prompt": ("acknowledged", "open", "expired unacknowledged", "-"),
    "call": ("-", "-", "call tasks", "-"),
}


def _channels_line(channels: dict[str, dict[str, int]]) -> str:
    """Each channel's reminders to date: ``sms 40 (38 sent, 2 failed); prompt 12 (3 acknowledged …``."""
    parts = []
    for channel in ("sms", "miniprogram", "prompt", "call"):
        if channel not in channels:
            continue
        c = channels[channel]
        words = _CHANNEL_WORDS[channel]
        shown = [
            f"{c[k]} {w}"
            for k, w in zip(("reached", "waiting", "failed", "unreachable"), words, strict=True)
            if c[k] and w != "-"
        ]
        parts.append(f"{channel} {c['reminders']}" + (f" ({', '.join(shown)})" if shown else ""))
    return "; ".join(parts) or "no reminder yet"


def _sms_line(sms: dict[str, Any]) -> str:
    spread = (
        ", ".join(
            f"{k}{' messages' if i == 0 else ''} of {n} SMS"
            for i, (n, k) in enumerate(sms["by_segments"].items())
        )
        or "no message"
    )
    return (
        f"{spread} (last 365 days); billed {sms['segments_billed']} SMS = "
        f"¥{sms['cost_last_365_days']:.2f}; next 365 days: {sms['expiring_next_365_days']} licences "
        f"expire, at most ¥{sms['cost_next_365_days_at_most']:.2f} (¥{sms['price']} a billed SMS, "
        "LR_SMS_PRICE)"
    )


def _sms_city(rows: list[dict[str, Any]]) -> dict[str, Any]:
    by: Counter[int] = Counter()
    for r in rows:
        by.update(r["sms"]["by_segments"])
    keys = (
        "segments_billed",
        "cost_last_365_days",
        "expiring_next_365_days",
        "cost_next_365_days_at_most",
    )
    return {
        "price": rows[0]["sms"]["price"],
        "by_segments": dict(sorted(by.items())),
        **{k: round(sum(r["sms"][k] for r in rows), 2) for k in keys},
    }


def cmd_connector_check(args: argparse.Namespace) -> int:
    from licence_reminder.connector_check import check

    return check(
        Path(args.file),
        limit=args.limit,
        today=dt.date.fromisoformat(args.today) if args.today else dt.date.today(),
        catalogue_dir=args.catalogue_dir,
    )


def quarantine_rows(
    engine: Any, dept_code: str, *, rule: str | None = None, limit: int = 50, resolved: bool = False
) -> list[dict[str, Any]]:
    """A department's quarantine entries, open (or, ``resolved``, closed) and newest first, with
    every personal value masked."""
    from licence_reminder.db import sql
    from licence_reminder.masking import mask_licence_no, mask_record

    params = {
        "dept_code": dept_code,
        "rule": rule,
        "rule_like": f"%{rule}%" if rule else None,
        "limit": limit,
    }
    out = []
    with engine.connect() as conn:
        listing = sql("quarantine_list_resolved" if resolved else "quarantine_list", conn)
        for r in conn.execute(listing, params).mappings():
            row = dict(r)
            row["reasons"] = json.loads(row["reasons"])
            row["raw_values"] = mask_record(json.loads(row["raw_values"]))
            row["licence_no"] = mask_licence_no(row["licence_no"])
            row["source_key"] = mask_licence_no(row["source_key"]) if row["source_key"] else None
            out.append(row)
    return out


def quarantine_count(engine: Any, dept_code: str, *, rule: str | None = None) -> int:
    from licence_reminder.db import sql

    with engine.connect() as conn:
        return int(
            conn.execute(
                sql("quarantine_count", conn),
                {"dept_code": dept_code, "rule": rule, "rule_like": f"%{rule}%" if rule else None},
            ).scalar()
            or 0
        )


_RESOLUTIONS = {
    "fixed": "fixed: seen valid",
    "gone": "gone: a full run no longer read the row",
    "retired": "retired: the department was taken out",
    None: "closed",
}


def _unknown_department(engine: Any, code: str) -> bool:
    """True (after saying which departments there are) when the ledger holds no department ``code``."""
    from licence_reminder.db import sql

    with engine.connect() as conn:
        known = [r[0] for r in conn.execute(sql("department_codes", conn))]
    if code in known:
        return False
    print(
        f"no department {code!r} in the ledger database; its departments: "
        f"{', '.join(known) or 'none yet (a department appears at its first sync)'}",
        file=sys.stderr,
    )
    return True


def cmd_quarantine(args: argparse.Namespace) -> int:
    engine = _ledger(args)
    if _unknown_department(engine, args.dept):
        return 2
    rows = quarantine_rows(
        engine, args.dept, rule=args.rule, limit=args.limit, resolved=args.resolved
    )
    if args.json:
        print(json.dumps(rows, ensure_ascii=False, default=str, indent=2))
        return 0
    for_rule = f" for rule {args.rule}" if args.rule else ""
    if args.resolved:
        if not rows:
            print(f"{args.dept}: no entry has left quarantine{for_rule}")
            return 0
        print(
            f"{args.dept}: the {len(rows)} entries that left quarantine last{for_rule} (newest first, "
            f"--limit {args.limit}; personal data masked, times in {city_zone()})"
        )
    else:
        total = quarantine_count(engine, args.dept, rule=args.rule)
        if not total:
            print(f"{args.dept}: nothing in quarantine{for_rule}")
            return 0
        shown = (
            "all shown"
            if len(rows) == total
            else f"the newest {len(rows)} shown: --limit {total} shows all"
        )
        print(
            f"{args.dept}: {total} row(s) in quarantine{for_rule} ({shown}; newest first, personal data "
            f"masked, times in {city_zone()})"
        )
    for r in rows:
        key = r["source_key"] or r["raw_values"].get(SOURCE_KEY)
        where = (
            f"source key {key}, " if key else ""
        ) + f"row {r['source_row']} of that run's extract"
        print(
            f"- licence {r['licence_no'] or '-'} ({where}), "
            f"first seen {r['first_seen_at']}, last seen {r['last_seen_at']} in run {r['run_id']}"
        )
        if args.resolved:
            print(
                f"    left quarantine {r['resolved_at']} in run {r['resolved_run_id']} "
                f"({_RESOLUTIONS.get(r['resolution'], r['resolution'])})"
            )
        for reason in r["reasons"]:
            print(f"    {reason['rule']}: {reason['message']}")
        shown = {k: v for k, v in r["raw_values"].items() if v not in (None, "")}
        print("    values: " + json.dumps(shown, ensure_ascii=False, default=str))
    return 0


def cmd_warnings(args: argparse.Namespace) -> int:
    from licence_reminder.db import sql
    from licence_reminder.masking import mask_licence_no

    engine = _ledger(args)
    if _unknown_department(engine, args.dept):
        return 2
    params = {"dept_code": args.dept, "rule": args.rule, "limit": args.limit}
    with engine.connect() as conn:
        rows = [dict(r) for r in conn.execute(sql("warning_list", conn), params).mappings()]
        total = int(conn.execute(sql("warning_count", conn), params).scalar() or 0)
    for r in rows:
        r["licence_no"] = mask_licence_no(r["licence_no"])
    if args.json:
        print(json.dumps(rows, ensure_ascii=False, default=str, indent=2))
        return 0
    for_rule = f" for rule {args.rule}" if args.rule else ""
    if not total:
        print(f"{args.dept}: no licence loaded with warnings{for_rule}")
        return 0
    print(
        f"{args.dept}: {total} licence(s) loaded with warnings{for_rule} — they are reminded, but "
        f"the source should be fixed (newest first, --limit {args.limit}; times in {city_zone()})"
    )
    for r in rows:
        print(
            f"- licence {r['licence_no']} ({r['licence_name'] or '-'}, expires {str(r['expiry_date'])[:10]}): "
            f"{r['rule']} since {r['first_seen_at']}"
        )
        print(f"    {r['message']}")
    return 0


def _actor(args: argparse.Namespace) -> str:
    import getpass

    return (getattr(args, "by", None) or "").strip() or f"cli:{getpass.getuser()}"


def cmd_calls_list(args: argparse.Namespace) -> int:
    from licence_reminder import calls

    engine = _ledger(args)
    if args.dept and _unknown_department(engine, args.dept):
        return 2
    f = calls.Filter(
        dept_code=args.dept,
        open_only=args.open,
        due_before=dt.date.fromisoformat(args.due_before) if args.due_before else None,
    )
    rows = calls.list_tasks(engine, f, limit=args.limit)
    if args.json:
        print(json.dumps(rows, ensure_ascii=False, default=str, indent=2))
        return 0
    total = calls.count_tasks(engine, f)
    if not total:
        print(
            "no call task"
            + (" open" if args.open else "")
            + (f" in {args.dept}" if args.dept else "")
        )
        return 0
    shown = (
        "all shown"
        if len(rows) == total
        else f"the first {len(rows)} shown: --limit {total} shows all"
    )
    print(
        f"{total} call task(s) ({shown}; soonest expiry first; mobiles masked: `calls show ID --reveal`)"
    )
    for t in rows:
        when = f", try again {t['next_try_on']}" if t["status"] == "retry" else ""
        print(
            f"#{t['id']:<6} {t['status_label']}{when}  {t['dept_code']}  {t['licence_name']} {t['licence_no']}"
            f"  expires {t['expiry_date']} (stage {t['stage']})"
        )
        print(
            f"        {t['holder_name'] or '-'} / {t['contact_name'] or '-'} {t['mobile_masked'] or '(no mobile)'}"
            f"  — SMS: {t['reason_label']}; service phone {t['service_phone'] or '-'}"
            + (f"; last outcome: {t['outcome_label']}" if t["outcome"] else "")
            + (f"; closed: {t['closed_reason']}" if t["closed_reason"] else "")
        )
    return 0


def cmd_calls_show(args: argparse.Namespace) -> int:
    from licence_reminder import calls

    engine = _ledger(args)
    task = calls.get_task(engine, args.id)
    if args.reveal:
        print("warning: the full mobile is personal data; this access is recorded", file=sys.stderr)
        task["mobile"] = calls.reveal_mobile(
            engine, args.id, by=_actor(args), via="cli calls show --reveal"
        )
    if args.json:
        print(json.dumps(task, ensure_ascii=False, default=str, indent=2))
        return 0
    print(f"call task #{task['id']} ({task['status_label']}) — {task['dept_name']}")
    print(
        f"  licence : {task['licence_name']} {task['licence_no']}, expires {task['expiry_date']}, stage {task['stage']}"
    )
    print(
        f"  holder  : {task['holder_name'] or '-'}; contact {task['contact_name'] or '-'}, "
        f"mobile {task.get('mobile') or task['mobile_masked'] or '(none)'}"
    )
    print(
        f"  SMS     : {task['reason_label']} ({task['reason'] or '-'}); reminder day {task['due_on']}"
    )
    print(f"  phone   : the department's service phone {task['service_phone'] or '-'}")
    if task["closed_reason"]:
        print(f"  closed  : {task['closed_reason']}")
    for o in task["history"]:
        extra = f", try again {o['retry_on']}" if o["retry_on"] else ""
        print(
            f"  {o['recorded_at']} {o['recorded_by']}: {o['outcome_label']}{extra}"
            + (f" — {o['note']}" if o["note"] else "")
        )
    return 0


def cmd_calls_record(args: argparse.Namespace) -> int:
    from licence_reminder import calls

    task = calls.record_outcome(
        _ledger(args),
        args.id,
        args.outcome,
        by=_actor(args),
        note=args.note,
        retry_on=dt.date.fromisoformat(args.retry_on) if args.retry_on else None,
    )
    print(
        f"call task #{task['id']}: {calls.OUTCOMES[args.outcome][0]} recorded; now {task['status_label']}"
        + (f", try again {task['next_try_on']}" if task["status"] == "retry" else "")
    )
    return 0


def cmd_calls_export(args: argparse.Namespace) -> int:
    from licence_reminder import calls

    engine = _ledger(args)
    if args.dept and _unknown_department(engine, args.dept):
        return 2
    if args.unmasked:
        print(
            "warning: the file contains full mobiles (personal data); this export is recorded",
            file=sys.stderr,
        )
    n = calls.export_xlsx(
        engine,
        args.out,
        calls.Filter(dept_code=args.dept, open_only=not args.all),
        by=_actor(args),
        unmasked=args.unmasked,
    )
    print(f"wrote {n} call task(s) to {args.out}")
    return 0


def cmd_lapsed(args: argparse.Namespace) -> int:
    from licence_reminder import lapsed
    from licence_reminder.masking import mask_licence_no

    engine = _ledger(args)
    if args.dept and _unknown_department(engine, args.dept):
        return 2
    rep = lapsed.report(
        engine,
        dept_code=args.dept,
        since=dt.date.fromisoformat(args.since) if args.since else None,
        limit=args.limit,
    )
    for r in rep.licences:
        r["licence_no"] = mask_licence_no(r["licence_no"])
    if args.json:
        print(
            json.dumps(
                {"licences": rep.licences, "stale_departments": rep.stale_departments},
                ensure_ascii=False,
                default=str,
                indent=2,
            )
        )
        return 0
    for d in rep.stale_departments:
        since = f"since {d['last_success']}" if d["last_success"] else "ever"
        print(
            f"department {d['code']} ({d['name']}): no successful sync {since} "
            f"({d['failed_runs_since']} failed run(s)): licences in its source that expired meanwhile "
            "are not known to the ledger"
        )
    if not rep.licences:
        print(
            "no licence expired without a warning that reached its holder"
            + (f" in {args.dept}" if args.dept else "")
        )
        return 0
    print(
        f"{len(rep.licences)} licence cycle(s) expired without a warning that reached the holder "
        "(newest expiry first):"
    )
    for r in rep.licences:
        print(
            f"- {r['dept_code']} {r['licence_name'] or '-'} {r['licence_no'] or '-'} expired {r['expiry_date']}"
            f" [{r['source']}]: {r['reason']}" + (f" ({r['detail']})" if r["detail"] else "")
        )
    return 0


def cmd_catalogue_publish(args: argparse.Namespace) -> int:
    from licence_reminder.publish import publish_catalogues

    settings = Settings.from_env()
    files, problems = publish_catalogues(settings.catalogue_dir, settings.registry_dir, args.out)
    for p in problems:
        print(p, file=sys.stderr)
    print(f"wrote {len(files)} files under {args.out}")
    return 1 if problems else 0


def _catalogue_gateways(args: argparse.Namespace) -> list[Any]:
    from licence_reminder.catalogue_check import connection_gateway, documented_gateways

    if args.conn:
        return [connection_gateway(c) for c in args.conn]
    return documented_gateways(args.provider)


def cmd_catalogue_check(args: argparse.Namespace) -> int:
    from licence_reminder.catalogue_check import check

    settings = Settings.from_env()
    paths = args.files or sorted(settings.catalogue_dir.glob("*.yaml"))
    if not paths:
        print(f"no catalogue file in {settings.catalogue_dir}", file=sys.stderr)
        return 1
    return check(
        paths,
        gateways=_catalogue_gateways(args),
        catalogue_url=settings.catalogue_url,
        today=dt.date.fromisoformat(args.today) if args.today else dt.date.today(),
    )


def _catalogues(dept: str | None) -> list[tuple[str, Any]] | None:
    """(department, catalogue) of ``dept``, or of every catalogue file; None, after saying why,
    when one cannot be read."""
    from licence_reminder.registry import RegistryError, catalogue_for

    folder = Settings.from_env().catalogue_dir
    out = []
    for code in [dept] if dept else sorted(p.stem for p in folder.glob("*.yaml")):
        try:
            out.append((code, catalogue_for(code, folder)))
        except RegistryError as exc:
            print(exc, file=sys.stderr)
            return None
    return out


def cmd_catalogue_templates(args: argparse.Namespace) -> int:
    from licence_reminder.catalogue_check import describe, print_templates

    settings = Settings.from_env()
    catalogues = _catalogues(args.dept)
    if catalogues is None:
        return 1
    items = []
    for _code, catalogue in catalogues:
        items += describe(
            catalogue,
            catalogue_url=settings.catalogue_url,
            gateways=_catalogue_gateways(args),
            today=dt.date.fromisoformat(args.today) if args.today else dt.date.today(),
        )
    if args.json:
        print(json.dumps(items, ensure_ascii=False, indent=2))
    else:
        if not settings.catalogue_url:
            print("(LR_CATALOGUE_URL is not set: the templates link to each entry's online_url)\n")
        print_templates(items)
    return 0


def cmd_ledger_export(args: argparse.Namespace) -> int:
    from licence_reminder.publish import export_ledger

    engine = _ledger(args)
    if args.dept and _unknown_department(engine, args.dept):
        return 2
    if args.unmasked:
        print(
            "warning: the file contains full mobiles (personal data); identity numbers stay masked: "
            "the ledger does not keep them (docs/security.md)",
            file=sys.stderr,
        )
    n = export_ledger(
        engine,
        args.out,
        dept_code=args.dept,
        unmasked=args.unmasked,
        include_inactive=args.include_inactive,
    )
    if args.unmasked:
        from licence_reminder.calls import record_access

        with engine.begin() as conn:
            record_access(
                conn,
                by=_actor(args),
                via="cli ledger export --unmasked",
                dept_code=args.dept,
                subject="ledger export",
                fields="contact_mobile",
                rows=n,
            )
    print(f"wrote {n} ledger rows to {args.out}")
    return 0


def cmd_ledger_refresh_dates(args: argparse.Namespace) -> int:
    from licence_reminder.leads import refresh_ledger_dates

    engine = _ledger(args)
    if args.dept and _unknown_department(engine, args.dept):
        return 2
    catalogues = _catalogues(args.dept)  # every one read before any is applied
    if catalogues is None:
        return 1
    for code, catalogue in catalogues:
        with engine.begin() as conn:
            changed = refresh_ledger_dates(conn, code, catalogue)
        print(f"department {code}: {changed} licence(s) given other reminder dates")
    return 0


def cmd_gateways_status(args: argparse.Namespace) -> int:
    from licence_reminder.config import local_now
    from licence_reminder.failover import FailoverSettings, moment, status

    settings = FailoverSettings.from_env()
    order = ", ".join(settings.order) or "none (LR_SMS_FAILOVER unset: no failover)"
    print(
        f"failover list: {order}; cool-down {int(settings.cooldown.total_seconds())} s after "
        f"{settings.threshold} transient failures in a row"
    )
    rows = status(_ledger(args))
    if not rows:
        print("no SMS gateway connection has been stepped over or switched")
    now = local_now()
    for r in rows:
        state = "switched off" if r["switched_off"] else "on"
        if r["switched_at"] is not None:
            state += f" (by {r['switched_by']} at {r['switched_at']}: {r['switch_reason'] or 'no reason given'})"
        until = moment(r["cooldown_until"])
        cooling = until is not None and until > now
        if cooling:
            state += f"; cooling down until {r['cooldown_until']}: {r['reason']}"
        elif r["tripped_at"] is not None:
            state += f"; last cool-down from {r['tripped_at']}: {r['reason']}"
        print(f"  {r['conn_id']:<24} {state}")
    return 0


def cmd_gateways_switch(args: argparse.Namespace) -> int:
    from licence_reminder.failover import switch

    off = args.cmd == "off"
    switch(_ledger(args), args.conn_id, off=off, by=_actor(args), reason=args.reason)
    print(
        f"gateway connection {args.conn_id!r} switched {'off: no message goes through it' if off else 'on'}; "
        "messages already accepted or in doubt there stay with it"
    )
    return 0


def cmd_pii_status(args: argparse.Namespace) -> int:
    from licence_reminder import protect
    from licence_reminder.db import sql

    engine = _ledger(args)
    current = protect.current_key_id()
    print(
        f"key ring: {'current key ' + current if current else 'not defined (connection lr_pii_keys)'}"
    )
    with engine.connect() as conn:
        rows = list(conn.execute(sql("pii_status", conn)))
        consents = list(conn.execute(sql("pii_status_consents", conn)))
    for c in consents:
        note = (
            ""
            if c.key_id == current
            else "  <- under an older key: stops matching once the ledger is rewritten"
        )
        print(f"  consents     holder key {c.key_id:<8} {c.n:>9,} granted{note}")
    if not rows:
        print("the ledger holds no identity number")
        return 0
    stale = clear = 0
    for r in rows:
        keys = {k for k in (r.contact_key, r.holder_key) if k}
        note = (
            ""
            if not keys or keys == {current}
            else "  <- under an older key: the next full run rewrites it"
        )
        stale += r.n if note else 0
        clear += int(r.contact_clear or 0)
        print(
            f"  {r.dept_code:<12} contact key {r.contact_key or '-':<8} holder key {r.holder_key or '-':<8} "
            f"{r.n:>9,} rows{note}"
        )
    if clear:
        print(f"{clear} contact ID number(s) held in clear: run `db upgrade` (migration 0019)")
    print(
        f"{stale:,} row(s) under an older key" if stale else "every digest is under the current key"
    )
    return 1 if clear else 0


def cmd_pii_find(args: argparse.Namespace) -> int:
    import getpass

    from sqlalchemy import bindparam

    from licence_reminder import protect
    from licence_reminder.calls import record_access
    from licence_reminder.db import sql
    from licence_reminder.masking import mask_licence_no

    engine = _ledger(args)
    if args.dept and _unknown_department(engine, args.dept):
        return 2
    # read from the terminal or stdin, never from the command line (shell history, ps)
    number = (
        (getpass.getpass("identity number: ") if sys.stdin.isatty() else sys.stdin.readline())
        .strip()
        .upper()
    )
    if not protect.ID_SHAPED.fullmatch(number):
        print("not an identity number (18 characters, or 15 digits)", file=sys.stderr)
        return 2
    digests = protect.key_ring().candidates(number)
    with engine.begin() as conn:
        found = list(
            conn.execute(
                sql("pii_find", conn).bindparams(bindparam("digests", expanding=True)),
                {"digests": digests, "dept_code": args.dept},
            )
        )
        record_access(
            conn,
            by=_actor(args),
            via="cli pii find",
            dept_code=args.dept,
            subject="identity number lookup",
            fields="contact_id_digest,holder_code_digest",
            rows=len(found),
        )
    if not found:
        print("no licence of that number" + (f" in {args.dept}" if args.dept else ""))
        return 1
    for r in found:
        state = "vanished" if r.vanished_at else r.status
        print(
            f"  {r.dept_code:<10} {mask_licence_no(r.licence_no):<24} {r.licence_name}  expires "
            f"{str(r.expiry_date)[:10]}  {state}  ({'contact person' if r.role == 'contact' else 'holder'}"
            f" of {r.holder_name or '-'})"
        )
    return 0


def cmd_department_retire(args: argparse.Namespace) -> int:
    from licence_reminder.sync.retire import retire_department

    code = args.code
    registry = Path(args.registry_dir or Settings.from_env().registry_dir)
    if (registry / f"{code}.yaml").exists():
        print(
            f"{registry / f'{code}.yaml'} is still registered: its DAG would load the licences "
            "again. Remove the file first (and its catalogue), then retire.",
            file=sys.stderr,
        )
        return 2
    engine = _ledger(args)
    if _unknown_department(engine, code):
        return 2
    done = retire_department(engine, code, commit=args.yes)
    verb = "" if args.yes else "would be "
    print(
        f"department {code}: {done.vanished} licence(s) {verb}marked vanished (kept, never "
        f"reminded), {done.reminders_cancelled} unsent reminder(s) and {done.messages_cancelled} "
        f"queued message(s) {verb}cancelled, {done.quarantine_closed} open quarantine entr(ies) "
        f"{verb}closed, its watermark {verb}forgotten"
    )
    if not args.yes:
        print("nothing changed: run again with --yes to retire it", file=sys.stderr)
        return 1
    print(
        f"recorded as run {done.run_id}; should the department return, its first run is full "
        "and brings its licences back"
    )
    return 0


def cmd_hold_list(args: argparse.Namespace) -> int:
    from licence_reminder.alerts import holds

    rows = holds(_ledger(args), all_holds=args.all)
    if args.json:
        print(json.dumps(rows, ensure_ascii=False, default=str, indent=2))
        return 0
    if not rows:
        print("no department is held" if not args.all else "no department was ever held")
    for h in rows:
        state = (
            "HELD"
            if h["ended_at"] is None
            else f"ended {str(h['ended_at'])[:16]} ({h['ended_how']}"
            + (
                f" by {h['released_by']}: {h['release_note']}"
                if h["ended_how"] == "released"
                else ""
            )
            + ")"
        )
        print(f"{h['dept_code']:<10} held {str(h['held_at'])[:16]}  {state}  {h['reason']}")
    return 0


def cmd_hold_release(args: argparse.Namespace) -> int:
    from licence_reminder.alerts import release

    engine = _ledger(args)
    if _unknown_department(engine, args.code):
        return 2
    if not args.note.strip():
        print(
            "--note: say why the department may be dispatched from its stale data", file=sys.stderr
        )
        return 2
    if not release(engine, args.code, by=_actor(args), note=args.note.strip()):
        print(f"department {args.code} is not held", file=sys.stderr)
        return 1
    print(
        f"department {args.code}: released by {_actor(args)}; the next dispatch sends its reminders "
        "from the data the ledger has, and it is not held again until its next good sync goes stale"
    )
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="licence_reminder.cli",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = parser.add_subparsers(dest="group", required=True)

    db = sub.add_parser("db", help="ledger schema").add_subparsers(dest="cmd", required=True)
    up = db.add_parser("upgrade", help="apply migrations")
    up.add_argument("--url", help="SQLAlchemy URL instead of the Airflow connection")
    up.set_defaults(func=cmd_db_upgrade)

    summary = sub.add_parser("summary", help="per-department figures")
    summary.add_argument("--url")
    summary.add_argument("--json", action="store_true")
    summary.add_argument(
        "--live",
        action="store_true",
        help="count every department now instead of reading the figures taken at the syncs and "
        "the dispatch (slow on a large ledger: minutes at province scale)",
    )
    summary.add_argument(
        "--price",
        type=float,
        default=None,
        help="yuan per billed SMS for the cost figures (default LR_SMS_PRICE, 0.045)",
    )
    summary.set_defaults(func=cmd_summary)

    conn = sub.add_parser("connector", help="department source connectors").add_subparsers(
        dest="cmd", required=True
    )
    chk = conn.add_parser(
        "check",
        help="validate a department file and dry-run its extract",
        description="Validate a department file and its catalogue, connect through its Airflow "
        "connection, run its extract with a row limit and apply every validation rule. "
        "Writes nothing. Exit status: 0 every row would load; 1 some rows would be "
        "rejected (listed by rule, masked); 2 the file, catalogue, connection, SQL or "
        "split column is wrong.",
    )
    chk.add_argument(
        "file", help="the department file, e.g. include/registry/departments/sxhjj.yaml"
    )
    chk.add_argument(
        "--limit",
        type=int,
        default=1000,
        help="rows of the extract to read and validate (default: %(default)s)",
    )
    chk.add_argument("--today", help="date the validation rules use, YYYY-MM-DD (default: today)")
    chk.add_argument(
        "--catalogue-dir",
        type=Path,
        default=None,
        help="folder of catalogue files (default: LR_CATALOGUE_DIR or include/registry/catalogues)",
    )
    chk.set_defaults(func=cmd_connector_check)

    qua = sub.add_parser("quarantine", help="a department's rejected rows and why (masked)")
    qua.add_argument("--dept", required=True)
    qua.add_argument("--rule", help="only rows that failed this rule, e.g. mobile_format")
    qua.add_argument("--limit", type=int, default=50, help="at most this many rows (default 50)")
    qua.add_argument(
        "--resolved",
        action="store_true",
        help="entries that left quarantine instead, and how: fixed, or gone from the extract",
    )
    qua.add_argument("--json", action="store_true")
    qua.add_argument("--url")
    qua.set_defaults(func=cmd_quarantine)

    war = sub.add_parser(
        "warnings", help="a department's licences loaded with warnings (fix at the source)"
    )
    war.add_argument("--dept", required=True)
    war.add_argument("--rule", help="only this rule, e.g. uscc_check or mobile_format")
    war.add_argument("--limit", type=int, default=50, help="at most this many rows (default 50)")
    war.add_argument("--json", action="store_true")
    war.add_argument("--url")
    war.set_defaults(func=cmd_warnings)

    cal = sub.add_parser("calls", help="call tasks: holders SMS could not reach").add_subparsers(
        dest="cmd", required=True
    )
    cl = cal.add_parser("list", help="call tasks, soonest expiry first, mobiles masked")
    cl.add_argument("--dept")
    cl.add_argument("--open", action="store_true", help="only tasks still to be worked")
    cl.add_argument(
        "--due-before", help="only tasks to be worked on or before this day, YYYY-MM-DD"
    )
    cl.add_argument("--limit", type=int, default=200)
    cl.add_argument("--json", action="store_true")
    cl.add_argument("--url")
    cl.set_defaults(func=cmd_calls_list)
    cs = cal.add_parser("show", help="one call task and every outcome recorded on it")
    cs.add_argument("id", type=int)
    cs.add_argument(
        "--reveal", action="store_true", help="show the full mobile (recorded: who, when)"
    )
    cs.add_argument("--by", help="who is asking (default: cli:<login>)")
    cs.add_argument("--json", action="store_true")
    cs.add_argument("--url")
    cs.set_defaults(func=cmd_calls_show)
    cr = cal.add_parser(
        "record",
        help="record what a call achieved",
        description="Outcomes: " + "; ".join(f"{k} ({v[0]})" for k, v in OUTCOMES.items()),
    )
    cr.add_argument("id", type=int)
    cr.add_argument("--outcome", required=True, choices=list(OUTCOMES))
    cr.add_argument("--note", help="what was said; needed to close a task (digits runs are masked)")
    cr.add_argument(
        "--retry-on", help="with no_answer: the day to try again, YYYY-MM-DD (default tomorrow)"
    )
    cr.add_argument("--by", help="who called (default: cli:<login>)")
    cr.add_argument("--url")
    cr.set_defaults(func=cmd_calls_record)
    ce = cal.add_parser("export", help="the call list as XLSX (mobiles masked unless --unmasked)")
    ce.add_argument("--dept")
    ce.add_argument("--out", type=Path, required=True)
    ce.add_argument("--all", action="store_true", help="also the tasks worked or closed")
    ce.add_argument("--unmasked", action="store_true", help="full mobiles (warns; recorded)")
    ce.add_argument("--by", help="who exports (default: cli:<login>)")
    ce.add_argument("--url")
    ce.set_defaults(func=cmd_calls_export)

    lap = sub.add_parser(
        "lapsed", help="licences that expired without a warning that reached the holder"
    )
    lap.add_argument("--dept")
    lap.add_argument("--since", help="only expiries on or after this day, YYYY-MM-DD")
    lap.add_argument("--limit", type=int, default=10_000)
    lap.add_argument("--json", action="store_true")
    lap.add_argument("--url")
    lap.set_defaults(func=cmd_lapsed)

    cat = sub.add_parser("catalogue", help="public catalogue").add_subparsers(
        dest="cmd", required=True
    )
    pub = cat.add_parser("publish", help="web pages, CSV and XLSX in the attachment-1 layout")
    pub.add_argument("--out", type=Path, default=Path("var/public"))
    pub.set_defaults(func=cmd_catalogue_publish)
    providers = ["aliyun", "tencent", "generic"]
    cchk = cat.add_parser(
        "check",
        help="SMS templates against the providers' caps; reminder dates against deadlines",
        description="Build every catalogue entry's SMS templates and check them against each "
        "provider's documented caps (or a gateway connection's own, --conn): fails "
        "naming the entry, the variable and the cap. Warns where a message would take "
        "more than two SMS with typical names and where a first reminder would fall "
        "after the last day to apply. Exit status: 0 passes, 1 fails.",
    )
    cchk.add_argument(
        "files",
        nargs="*",
        type=Path,
        help="catalogue files (default: every one in LR_CATALOGUE_DIR)",
    )
    cchk.add_argument(
        "--provider",
        action="append",
        choices=providers,
        help="check against this provider's documented caps (repeatable; default all)",
    )
    cchk.add_argument(
        "--conn",
        action="append",
        metavar="CONN_ID",
        help="check against this Airflow gateway connection's caps instead (repeatable)",
    )
    cchk.add_argument(
        "--today", help="first expiry date the lead rules are tried on (default today)"
    )
    cchk.set_defaults(func=cmd_catalogue_check)
    tpl = cat.add_parser(
        "templates",
        help="the SMS templates to submit to each provider, and their variables",
        description="Per catalogue entry and stage: the template's name (map it to the approved "
        "code in the gateway connection's extra.templates), its text to submit to each "
        "provider, its variables with their caps, and an example as a phone shows it.",
    )
    tpl.add_argument("--dept", help="one department's catalogue (default: all)")
    tpl.add_argument(
        "--provider",
        action="append",
        choices=providers,
        help="only this provider's text (repeatable; default all)",
    )
    tpl.add_argument(
        "--conn",
        action="append",
        metavar="CONN_ID",
        help="this Airflow gateway connection's provider and caps (repeatable)",
    )
    tpl.add_argument("--json", action="store_true")
    tpl.add_argument("--today", help="the sending day of the examples (default today)")
    tpl.set_defaults(func=cmd_catalogue_templates)

    led = sub.add_parser("ledger", help="the ledger").add_subparsers(dest="cmd", required=True)
    exp = led.add_parser("export", help="XLSX in the attachment-2 layout (masked by default)")
    exp.add_argument("--dept")
    exp.add_argument("--out", type=Path, default=Path("var/ledger.xlsx"))
    exp.add_argument(
        "--unmasked", action="store_true", help="full mobiles (recorded in personal_data_access)"
    )
    exp.add_argument(
        "--by", help="who exports (default: the login name), for the record of an unmasked export"
    )
    exp.add_argument(
        "--include-inactive",
        action="store_true",
        help="also revoked, cancelled and vanished licences, with two more columns: "
        "证照编号 (licence number) and 状态 (status)",
    )
    exp.add_argument("--url")
    exp.set_defaults(func=cmd_ledger_export)
    ref = led.add_parser(
        "refresh-dates",
        help="work the reminder dates of working-day leads out again, after the holiday "
        "schedule changed (include/registry/holidays.yaml, or a new chinese_calendar)",
    )
    ref.add_argument("--dept", help="one department (default: every catalogue)")
    ref.add_argument("--url")
    ref.set_defaults(func=cmd_ledger_refresh_dates)

    pii = sub.add_parser("pii", help="identity numbers at rest (docs/security.md)").add_subparsers(
        dest="cmd", required=True
    )
    pst = pii.add_parser(
        "status", help="rows per digest key; any identity number left in clear (exit 1)"
    )
    pst.add_argument("--url")
    pst.set_defaults(func=cmd_pii_status)
    pfi = pii.add_parser(
        "find",
        help="the licences of an identity number, read from the terminal "
        "(or stdin), never from the command line; recorded",
        description="Prompts for the number (or reads one line of stdin) and lists "
        "the licences whose contact or person holder has it. Every "
        "lookup is recorded in personal_data_access.",
    )
    pfi.add_argument("--dept")
    pfi.add_argument("--by", help="who looks it up (default: the login name)")
    pfi.add_argument("--url")
    pfi.set_defaults(func=cmd_pii_find)

    gws = sub.add_parser(
        "gateways",
        help="SMS gateway connections: failover, the operator's switch (docs/sms-providers.md)",
    ).add_subparsers(dest="cmd", required=True)
    gst = gws.add_parser(
        "status", help="each connection's cool-down and switch, and the failover list"
    )
    gst.add_argument("--url")
    gst.set_defaults(func=cmd_gateways_status)
    for verb, help_text in (
        ("off", "send nothing through this connection until switched on"),
        ("on", "take messages again (also ends a cool-down)"),
    ):
        gsw = gws.add_parser(verb, help=help_text)
        gsw.add_argument("conn_id", help="the Airflow connection id of the SMS gateway")
        gsw.add_argument("--reason", help="recorded with the switch")
        gsw.add_argument("--by", help="who switches it (default: the login name)")
        gsw.add_argument("--url")
        gsw.set_defaults(func=cmd_gateways_switch)

    dep = sub.add_parser("department", help="departments").add_subparsers(dest="cmd", required=True)
    ret = dep.add_parser(
        "retire",
        help="take a removed department out of the reminders",
        description="For a department whose file has been removed from the registry: mark its "
        "licences vanished (kept, with history, never reminded), cancel its unsent "
        "reminders and messages, close its open quarantine entries, forget its "
        "watermark. Without --yes, says what would change and changes nothing "
        "(exit 1).",
    )
    ret.add_argument("code")
    ret.add_argument("--yes", action="store_true", help="do it")
    ret.add_argument(
        "--registry-dir",
        type=Path,
        default=None,
        help="folder of department files (default: LR_REGISTRY_DIR or include/registry/departments)",
    )
    ret.add_argument("--url")
    ret.set_defaults(func=cmd_department_retire)

    hold = sub.add_parser(
        "hold", help="departments held from dispatch for stale data"
    ).add_subparsers(dest="cmd", required=True)
    hl = hold.add_parser("list", help="departments held now (--all: every hold and how it ended)")
    hl.add_argument("--all", action="store_true")
    hl.add_argument("--json", action="store_true")
    hl.add_argument("--url")
    hl.set_defaults(func=cmd_hold_list)
    hr = hold.add_parser(
        "release",
        help="dispatch a held department from the data it has (recorded: who, when, why)",
        description="A department whose last good sync is older than LR_MAX_DATA_AGE_HOURS is held: "
        "its reminders stay planned. Releasing it lets the next dispatch send them from "
        "the data the ledger has; it is held again only once a later good sync has gone "
        "stale in turn. Exit status: 0 released, 1 it was not held, 2 no such department.",
    )
    hr.add_argument("code")
    hr.add_argument("--note", required=True, help="why it may be dispatched from its stale data")
    hr.add_argument("--by", help="who releases it (default: cli:<login>)")
    hr.add_argument("--url")
    hr.set_defaults(func=cmd_hold_release)

    args = parser.parse_args(argv)
    try:
        return int(args.func(args))
    except PermanentError as exc:  # a call task that does not exist, an outcome it cannot take
        print(str(exc), file=sys.stderr)
        return 2
    except Exception as exc:
        if type(exc).__name__ == "AirflowNotFoundException":
            conn_id = Settings.from_env().ledger_conn_id
            print(
                f"the ledger's Airflow connection {conn_id!r} is not defined: set "
                f"AIRFLOW_CONN_{conn_id.upper()} (README, Command line) or give --url",
                file=sys.stderr,
            )
            return 2
        text = str(getattr(exc, "orig", exc))
        if "no such table" in text or "doesn't exist" in text:
            print(
                f"the ledger database has no schema yet ({redact_values(text.splitlines()[0])}): run "
                "`python -m licence_reminder.cli db upgrade` first",
                file=sys.stderr,
            )
            return 2
        raise


if __name__ == "__main__":
    sys.exit(main())
