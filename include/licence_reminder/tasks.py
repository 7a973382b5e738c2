"""What the DAGs' tasks call: resolves settings and connections, maps errors for Airflow.

Every function takes and returns small JSON-able values (XCom) with no personal data.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import json
import logging
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

from licence_reminder.config import Settings
from licence_reminder.errors import PermanentError, TransientError
from licence_reminder.registry import Department, RegistryError, catalogue_for, load_department

log = logging.getLogger(__name__)
F = TypeVar("F", bound=Callable[..., Any])


def airflow_errors(fn: F) -> F:
    """PermanentError → AirflowFailException (no retry); TransientError → retried.

    Either way without the error that caused it: the task log prints the chain, and a driver's
    error quotes the value it refused (``Duplicate entry '<licence number>'``). Our message keeps
    the server's text with such values redacted (``classify_db_error``).
    """

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        from airflow.sdk.exceptions import AirflowFailException

        try:
            return fn(*args, **kwargs)
        except (PermanentError, RegistryError) as exc:
            raise AirflowFailException(str(exc)) from None
        except TransientError as exc:
            raise exc from None

    return wrapper  # type: ignore[return-value]


def _settings() -> Settings:
    return Settings.from_env()


def _department(code: str, settings: Settings) -> Department:
    return load_department(settings.registry_dir / f"{code}.yaml")


def ledger_engine(settings: Settings | None = None):  # type: ignore[no-untyped-def]
    from licence_reminder.db import engine_for

    return engine_for((settings or _settings()).ledger_conn_id)


# --------------------------------------------------------------------------- sync
@airflow_errors
def sync_start(
    code: str, *, run_id: str, logical_date: str, force_full: bool = False
) -> dict[str, Any]:
    from licence_reminder.sync import plan as planning

    settings = _settings()
    dept = _department(code, settings)
    catalogue = catalogue_for(code, settings.catalogue_dir)
    engine = ledger_engine(settings)
    planning.register_department(engine, dept, catalogue)
    plan = planning.start_run(
        engine,
        dept,
        run_id=f"{code}:{run_id}",
        logical_date=dt.date.fromisoformat(logical_date[:10]),
        force_full=force_full,
    )
    if plan.read_after is None:
        log.info("department %s: %s sync", code, plan.mode)
    else:
        why = (
            "the watermark"
            if plan.read_after == plan.watermark_from
            else f"{plan.lookback_seconds} s before the last run began to read, by the source's clock"
        )
        log.info(
            "department %s: %s sync, watermark %s: reading rows stamped after %s (%s)",
            code,
            plan.mode,
            plan.watermark_from,
            plan.read_after,
            why,
        )
    return plan.to_xcom()


@airflow_errors
def sync_department(code: str, plan_xcom: dict[str, Any], *, today: str) -> dict[str, Any]:
    """Extract, validate and merge in the ledger's one transaction; the data-quality report."""
    from dataclasses import asdict

    from licence_reminder import sync
    from licence_reminder.db import engine_for
    from licence_reminder.sync.flow import SyncPlan
    from licence_reminder.sync.plan import fail_run
    from licence_reminder.validation.report import (
        collect_examples,
        collect_warning_examples,
        render_report_html,
        summary_lines,
    )

    settings = _settings()
    dept = _department(code, settings)
    catalogue = catalogue_for(code, settings.catalogue_dir)
    plan = SyncPlan.from_xcom(plan_xcom)
    engine = ledger_engine(settings)
    try:
        result = sync.run(
            engine,
            engine_for(dept.source.conn_id),
            dept,
            catalogue,
            plan,
            today=dt.date.fromisoformat(today),
        )
    except Exception as exc:
        fail_run(engine, plan.run_id, str(exc))
        raise
    sync.take_figures(engine, code, result.published)
    stats = result.stats
    totals = result.findings.totals
    for line in summary_lines(department_code=code, run_id=plan.run_id, totals=totals):
        log.info("%s", line)
    log.info("department %s published: %s", code, json.dumps(asdict(result.published)))
    settings.report_dir.mkdir(parents=True, exist_ok=True)
    report = (
        settings.report_dir / f"dq_{code}_{plan.run_id.split(':', 1)[1].replace(':', '-')}.html"
    )
    report.write_text(
        render_report_html(
            department_code=code,
            department_name=dept.name,
            run_id=plan.run_id,
            totals=totals,
            examples=collect_examples(result.findings.rejections),
            warning_examples=collect_warning_examples(result.findings.warnings),
        ),
        encoding="utf-8",
    )
    stats.report_path = str(report)
    log.info("department %s: data-quality report %s", code, report)
    try:  # its good sync clears its alerts and ends its hold; a fault here must not fail the sync
        review_alerts(engine, settings)
    except Exception as exc:  # noqa: BLE001
        log.error("department %s: alerts not reviewed after its sync: %s", code, type(exc).__name__)
    return {**asdict(stats), "published": asdict(result.published)}


# --------------------------------------------------------------------------- alerts
def review_alerts(engine: Any, settings: Settings) -> Any:
    """Opens and resolves incidents and holds from the ledger (``alerts.review``), then sends
    what is new; a notifier that fails is logged and tried again by the next review."""
    from licence_reminder import alerts

    found = alerts.review(engine, settings)
    alerts.deliver(engine, settings)
    return found


def raise_alert(engine: Any, settings: Settings, incident: Any) -> None:
    """One incident, sent once; if the ledger cannot record it, sent anyway (uncounted)."""
    from licence_reminder import alerts

    try:
        alerts.open_incident(engine, incident)
        alerts.deliver(engine, settings)
    except Exception as exc:  # noqa: BLE001 - the ledger lost: better twice than never
        log.error(
            "alert %s: the ledger could not record it (%s): sent without",
            incident.key,
            type(exc).__name__,
        )
        _send_now(settings, incident)


def alert_sync_failed(code: str, context: dict[str, Any]) -> None:
    """The sync task's ``on_failure_callback`` (after its last retry): the department's sync
    failed. Alerted from its ``sync_run`` row; a run that failed before it had one (its file, the
    ledger) from the task's error."""
    from licence_reminder import alerts
    from licence_reminder.errors import redact_values

    settings = _settings()
    try:
        engine = ledger_engine(settings)
        if code in review_alerts(engine, settings).sync_failed:
            return
    except Exception as exc:  # noqa: BLE001 - the ledger is what failed, maybe
        log.error("department %s: alerts not reviewed: %s", code, type(exc).__name__)
        engine = None
    error = context.get("exception")
    why = (
        redact_values(f"{type(error).__name__}: {error}".splitlines()[0])[:300]
        if error
        else "see the task log"
    )
    ti = context.get("ti") or context.get("task_instance")
    incident = alerts.Incident(
        "sync_failed",
        f"sync_failed:{code}",
        f"[{alerts.PRODUCT}] department {code}: sync failed",
        f"Department {code}: its sync (task {getattr(ti, 'task_id', '?')} of run {context.get('run_id')}) "
        f"failed after its retries: {why}",
        code,
    )
    if engine is None:
        _send_now(settings, incident)
    else:
        raise_alert(engine, settings, incident)


def _send_now(settings: Settings, incident: Any) -> None:
    from licence_reminder.notifiers import notifiers_for

    for where, notifier in notifiers_for(settings, incident.title, incident.body):
        try:
            notifier.notify({})
        except Exception as exc:  # noqa: BLE001
            log.error("alert %s: %s did not take it: %s", incident.key, where, type(exc).__name__)


@airflow_errors
def check_dispatch_finished(*, day: str, schedule: str, runs: Any) -> dict[str, Any]:
    """``dispatch_deadline``'s check at ``LR_DISPATCH_DEADLINE``: the day's scheduled dispatch
    runs (the schedule's times that day before the deadline) and whether one succeeded, asked of
    Airflow through ``runs.get_dr_count`` (the task instance). None did: one alert for the day."""
    from zoneinfo import ZoneInfo

    from licence_reminder import alerts
    from licence_reminder.config import scheduled_starts

    settings = _settings()
    starts = scheduled_starts(
        schedule, dt.date.fromisoformat(day), settings.dispatch_deadline, settings.timezone
    )
    if not starts:
        log.info(
            "no dispatch is scheduled on %s before %s: nothing to check",
            day,
            settings.dispatch_deadline,
        )
        return {"scheduled": 0}
    done = runs.get_dr_count(dag_id="dispatch_reminders", logical_dates=starts, states=["success"])
    if done:
        return {"scheduled": len(starts), "succeeded": done}
    started = runs.get_dr_count(dag_id="dispatch_reminders", logical_dates=starts)
    state = "still running or failed" if started else "never started (is the DAG paused?)"
    raise_alert(
        ledger_engine(settings),
        settings,
        alerts.dispatch_late(
            day,
            settings.dispatch_deadline,
            state=state,
            runs=", ".join(f"{s.astimezone(ZoneInfo(settings.timezone)):%H:%M}" for s in starts),
        ),
    )
    return {"scheduled": len(starts), "succeeded": 0}


# --------------------------------------------------------------------------- dispatch
def _policy():  # type: ignore[no-untyped-def]
    import os

    from licence_reminder.policy import Policy

    return Policy(
        working_days_only=os.environ.get("LR_WORKING_DAYS_ONLY", "").lower() in {"1", "true", "yes"}
    )


@airflow_errors
def dispatch_plan(*, today: str, run_id: str) -> dict[str, Any]:
    from licence_reminder import calls, dispatch

    settings = _settings()
    engine, day = ledger_engine(settings), dt.date.fromisoformat(today)
    found = review_alerts(engine, settings)
    for code, why in sorted(found.sync_failed.items()):
        log.warning(
            "department %s: its latest sync failed (%s): dispatched from the ledger as it stands",
            code,
            why,
        )
    for code, why in sorted(found.held.items()):
        log.error(
            "department %s: held, its reminders stay planned until it syncs or an operator "
            "releases it (cli hold release %s): %s",
            code,
            code,
            why,
        )
    planned: dict[str, Any] = dispatch.plan(engine, today=day, run_id=run_id, policy=_policy())
    closed = calls.close_unneeded(engine, today=day)
    for reason, n in closed.items():
        log.info("%d call task(s) closed: %s", n, reason)
    if closed:
        planned["call_tasks_closed"] = sum(closed.values())
    if found.sync_failed:
        planned["sync_failed"] = sorted(found.sync_failed)
    if found.held:
        planned["held_stale"] = found.held
    return planned


def _gateway_conn_ids(settings: Settings) -> dict[str, str]:
    from licence_reminder.registry import scan_registry

    return {
        e.department.code: e.department.gateway_conn_id or settings.gateway_conn_id
        for e in scan_registry(settings.registry_dir)
        if e.department
    }


@functools.cache
def _gateway_config(conn_id: str):  # type: ignore[no-untyped-def]
    from licence_reminder.db import get_airflow_connection
    from licence_reminder.gateways.factory import GatewayConfig

    return GatewayConfig.from_connection(get_airflow_connection(conn_id))


def shard_count() -> int:
    import os

    return max(1, int(os.environ.get("LR_SEND_SHARDS", "2")))


@airflow_errors
def dispatch_render(*, today: str, run_id: str) -> dict[str, int]:
    import os

    from licence_reminder import dispatch

    settings = _settings()
    conn_ids = _gateway_conn_ids(settings)

    def profile_for(dept_code: str) -> dispatch.GatewayProfile:
        return dispatch.GatewayProfile.of(
            _gateway_config(conn_ids.get(dept_code, settings.gateway_conn_id))
        )

    from licence_reminder import calls

    engine = ledger_engine(settings)
    out = dispatch.render_outbox(
        engine,
        today=dt.date.fromisoformat(today),
        run_id=run_id,
        profile_for=profile_for,
        shards=shard_count(),
        group_by_holder=os.environ.get("LR_GROUP_BY_HOLDER", "true").lower() != "false",
        catalogue_url=settings.catalogue_url,
    )
    out = _merge(out, _render_channels(engine, today=today, run_id=run_id))
    opened = calls.open_tasks(engine, today=dt.date.fromisoformat(today), run_id=run_id)
    if opened:
        out["call_tasks_opened"] = opened
    out = _merge(out, _stale_holds(engine))
    for code, reason in out.get("held", {}).items():
        if code.endswith("(stale data)"):
            log.error(
                "department %s: reminders stay planned until it syncs or `hold release`: %s",
                code,
                reason,
            )
        elif code.endswith("(mini-program)"):
            log.error("department %s: reminders stay planned until it is fixed: %s", code, reason)
        else:
            log.error(
                "department %s: gateway connection %r: reminders stay planned until it is fixed: %s",
                code,
                conn_ids.get(code, settings.gateway_conn_id),
                reason,
            )
    return out


def _stale_holds(engine: Any) -> dict[str, Any]:
    """Departments held for stale data (alerts.review) that keep reminders planned today; one
    with none (never synced: nothing in the ledger) is held and alerted, but held nothing back."""
    from licence_reminder import alerts
    from licence_reminder.db import sql

    reasons = {h["dept_code"]: h["reason"] for h in alerts.holds(engine)}
    if not reasons:
        return {}
    with engine.connect() as conn:
        waiting = {r.dept_code: int(r.reminders) for r in conn.execute(sql("hold_reminders", conn))}
    held = {f"{code} (stale data)": reason for code, reason in reasons.items() if waiting.get(code)}
    return {"held": held, "reminders_held": sum(waiting.values())} if held else {}


def _render_channels(engine: Any, *, today: str, run_id: str) -> dict[str, Any]:
    """The day's reminders of the channels beside SMS (mini-program, in-system prompt, call)."""
    from licence_reminder.channels import wechat_conn_id
    from licence_reminder.channels.render import render_channels

    return render_channels(
        engine,
        today=dt.date.fromisoformat(today),
        run_id=run_id,
        wechat=lambda: _wechat_config(wechat_conn_id()),
    )


def _merge(sms: dict[str, Any], other: dict[str, Any]) -> dict[str, Any]:
    out = {**sms}
    for key, value in other.items():
        if key == "held":
            out["held"] = {**out.get("held", {}), **value}
        else:
            out[key] = out.get(key, 0) + value
    return out


@functools.cache
def _wechat_config(conn_id: str):  # type: ignore[no-untyped-def]
    from licence_reminder.channels.wechat import WeChatConfig
    from licence_reminder.db import get_airflow_connection

    return WeChatConfig.from_connection(get_airflow_connection(conn_id))


@airflow_errors
def dispatch_held(rendered: dict[str, Any]) -> None:
    """Fails the run (after the other departments' messages went out) if render held any."""
    held = rendered.get("held") or {}
    if held:
        raise PermanentError(
            f"{len(held)} department(s) held, {rendered.get('reminders_held', 0)} reminder(s) not sent, "
            "they go out with the first run after the gateway connection is fixed (stale data: after "
            "the department syncs or is released, `cli hold release`): "
            + "; ".join(f"department {code}: {reason}" for code, reason in sorted(held.items()))
        )


@airflow_errors
def dispatch_watch() -> None:
    """The run's last word when a task of it failed: a run whose SMS did not all go out must not
    end green because ``receipts`` (which runs whatever happened) succeeded. The incidents the
    ledger shows (a gateway refusing its account) are alerted first."""
    settings = _settings()
    try:
        review_alerts(ledger_engine(settings), settings)
    except Exception as exc:  # noqa: BLE001 - the run's own failure is what this task must say
        log.error("alerts not reviewed: %s", type(exc).__name__)
    raise PermanentError(
        "a task of this dispatch run failed (see plan, render, send): the reminders "
        "it did not send stay planned or queued for the next run"
    )


def in_sending_hours(settings: Settings, now: dt.datetime | None = None) -> bool:
    from zoneinfo import ZoneInfo

    local = (now or dt.datetime.now(dt.UTC)).astimezone(ZoneInfo(settings.timezone))
    start, end = settings.sending_hours
    return start <= local.hour < end


@contextlib.contextmanager
def _gateways() -> Iterator[Callable[[str], Any]]:
    """Adapters by connection id, built once each for the task and closed at its end."""
    from licence_reminder.gateways.factory import gateway_from_config

    cache: dict[str, Any] = {}

    def gateway(conn_id: str) -> Any:
        if conn_id not in cache:
            from licence_reminder.channels import wechat_conn_id

            if conn_id == wechat_conn_id():
                from licence_reminder.channels.wechat import WeChatSubscribe

                cache[conn_id] = WeChatSubscribe(_wechat_config(conn_id))
            else:
                cache[conn_id] = gateway_from_config(_gateway_config(conn_id))
        return cache[conn_id]

    try:
        yield gateway
    finally:
        for gw in cache.values():
            gw.close()


@airflow_errors
def dispatch_send(*, shard: int, run_id: str) -> dict[str, int]:
    import os

    from licence_reminder import dispatch

    settings = _settings()
    engine = ledger_engine(settings)
    if not in_sending_hours(settings):
        start, end = settings.sending_hours
        window = f"{start:02d}:00-{end:02d}:00 {settings.timezone} (LR_SENDING_HOURS)"
        waiting = dispatch.pending_count(engine, shard)
        if not waiting:
            log.info(
                "shard %s: outside the sending hours %s, and nothing waits to be sent",
                shard,
                window,
            )
            return {"outside_sending_hours": 1}
        # the run must not end green having sent nothing: a retry minutes later is no better
        from licence_reminder import alerts
        from licence_reminder.config import local_now

        raise_alert(
            engine,
            settings,
            alerts.sending_window_closed(local_now().date().isoformat(), window, waiting),
        )
        raise PermanentError(
            f"shard {shard}: outside the sending hours {window}: nothing sent, {waiting} message(s) "
            "stay queued for the first dispatch run inside the sending hours"
        )
    rate = float(os.environ.get("LR_SEND_RATE", "0")) or None
    with _gateways() as gateways:
        counts = dispatch.send_shard(
            engine,
            gateways,
            shard=shard,
            run_id=run_id,
            rate=rate,
            max_wait_seconds=float(os.environ.get("LR_RETRY_WAIT", "30")),
            router=_router(),
        )
    unsent = dispatch.tried_unsent(engine, shard)
    if unsent:  # Airflow's retries try again; a run whose messages did not go must not end green
        raise TransientError(
            f"shard {shard}: {unsent} message(s) the gateway would not take yet "
            f"({json.dumps(counts)}); they stay pending for the task's retry and the next run"
        )
    return counts


def _router() -> Any:
    """SMS failover (``LR_SMS_FAILOVER``): the listed connections a message may go through when
    its own is failing or switched off. A listed connection that cannot be built is left out,
    loudly: a broken standby must not stop the messages its primary can send."""
    from licence_reminder import dispatch
    from licence_reminder.failover import FailoverSettings, Router

    try:
        settings = FailoverSettings.from_env()
    except ValueError as exc:
        raise PermanentError(str(exc)) from None
    profiles = {}
    for conn_id in settings.order:
        try:
            profiles[conn_id] = dispatch.GatewayProfile.of(_gateway_config(conn_id))
        except Exception as exc:  # noqa: BLE001 - whatever is wrong with it, only it is left out
            log.error(
                "LR_SMS_FAILOVER: gateway connection %r left out of the failover: %s: %s",
                conn_id,
                type(exc).__name__,
                exc,
            )
    return Router(settings, profiles)


@airflow_errors
def dispatch_receipts(*, today: str, run_id: str) -> dict[str, int]:
    """The carriers' reports; then every message SMS could not deliver today (refused, in doubt,
    not delivered) is a call task."""
    from licence_reminder import calls, figures, receipts

    engine = ledger_engine()
    with _gateways() as gateways:
        counts = receipts.collect(engine, gateways, run_id=run_id)
    log.info("delivery receipts: %s", json.dumps(counts))
    opened = calls.open_tasks(engine, today=dt.date.fromisoformat(today), run_id=run_id)
    # the dispatch's last task (it runs whatever the sends did): the summary's reminder, message
    # and call figures of every department, as the day's plan, sends and reports left them
    figures.refresh_quietly(engine, figures.department_codes(engine), parts=("dispatch",))
    return {**counts, "call_tasks_opened": opened} if opened else counts
