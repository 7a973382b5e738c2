"""City-wide daily dispatch: ``dispatch_reminders``; and ``dispatch_deadline``, its check.

1. **plan** — the reminders due today under the policy (stage 1 from the ledger's first reminder
   date, stage 2 from its second, for holders who have not applied to renew); idempotent.
2. **render** — messages from each catalogue entry's approved template into the outbox, one per
   mobile, holder, entry, expiry date and stage, written before any gateway call.
3. **send** — mapped over outbox shards in the ``sms_gateway`` pool: messages left in doubt are
   looked up at the provider first, then every due message is sent once; every attempt is audited.
   An SMS whose connection is failing or switched off goes through the next of ``LR_SMS_FAILOVER``
   (docs/sms-providers.md).
   **send_miniprogram** does the same for WeChat mini-program messages (a shard of their own, so a
   WeChat account problem never stops SMS). In-system prompts wait for the business systems to
   pull them; call reminders by policy go straight to the call list (docs/channels.md).
4. **receipts** — the carriers' reports on messages accepted in the last days: delivered, or (not
   delivered) onto the phone-call list; a message without a report yet is asked again next run.
   Reports the providers pushed (docs/pushed-reports.md) and kept are applied first.
   Every reminder SMS could not deliver today (no usable mobile, refused, in doubt, not
   delivered) becomes a call task for its department's staff (``cli calls``).

Departments whose latest sync failed are still dispatched from the ledger as it stands, and
**plan** names them; a department whose last good sync is older than ``LR_MAX_DATA_AGE_HOURS`` is
held (its reminders stay planned) until it syncs or an operator releases it (``cli hold
release``). So is a department whose gateway connection cannot be used, while the others are
sent; **held** then fails the run naming them, and **watch** fails it if any task failed, so a day
whose SMS did not all go out never ends green. A run outside the sending hours fails saying so.
Each of these, a gateway refusing the account and a run not finished by ``LR_DISPATCH_DEADLINE``
(``dispatch_deadline`` checks) is alerted once by e-mail and group robot (``licence_reminder.alerts``).
"""

from __future__ import annotations

import datetime as dt
import os

import pendulum
from airflow.sdk import dag, task
from licence_reminder.config import Settings, city_zone, run_day

TZ = city_zone()
SHARDS = max(1, int(os.environ.get("LR_SEND_SHARDS", "2")))
POOL = os.environ.get("LR_SMS_POOL", "sms_gateway")
SCHEDULE = os.environ.get("LR_DISPATCH_SCHEDULE", "0 9 * * *")
DEADLINE = Settings.from_env().dispatch_deadline


@dag(
    dag_id="dispatch_reminders",
    schedule=SCHEDULE,
    start_date=pendulum.datetime(2026, 1, 1, tz=TZ),
    catchup=False,
    max_active_runs=1,
    tags=["licence-reminder", "dispatch", "sms", "miniprogram"],
    default_args={"retries": 2, "retry_delay": dt.timedelta(minutes=2)},
    doc_md=__doc__,
)
def dispatch_reminders():
    @task
    def plan(**context) -> dict:
        from licence_reminder.tasks import dispatch_plan

        return dispatch_plan(today=run_day(context), run_id=context["run_id"])

    @task
    def render(planned: dict, **context) -> dict:
        from licence_reminder.tasks import dispatch_render

        return dispatch_render(today=run_day(context), run_id=context["run_id"])

    @task(pool=POOL, max_active_tis_per_dagrun=SHARDS)
    def send(shard: int, **context) -> dict:
        from licence_reminder.tasks import dispatch_send

        return dispatch_send(shard=shard, run_id=context["run_id"])

    @task
    def send_miniprogram(**context) -> dict:
        from licence_reminder.channels import MINIPROGRAM_SHARD
        from licence_reminder.tasks import dispatch_send

        return dispatch_send(shard=MINIPROGRAM_SHARD, run_id=context["run_id"])

    @task(trigger_rule="all_done")
    def receipts(**context) -> dict:
        from licence_reminder.tasks import dispatch_receipts

        return dispatch_receipts(today=run_day(context), run_id=context["run_id"])

    @task(retries=0)
    def held(rendered: dict) -> None:
        from licence_reminder.tasks import dispatch_held

        dispatch_held(rendered)

    @task(trigger_rule="one_failed", retries=0)
    def watch() -> None:
        from licence_reminder.tasks import dispatch_watch

        dispatch_watch()

    planned = plan()
    rendered = render(planned)
    sent = send.expand(shard=list(range(SHARDS)))
    sent_mini = send_miniprogram()
    reported = receipts()
    rendered >> [sent, sent_mini] >> reported
    held(rendered)
    [planned, rendered, sent, sent_mini, reported] >> watch()


dispatch_reminders()


@dag(
    dag_id="dispatch_deadline",
    schedule=f"{DEADLINE.minute} {DEADLINE.hour} * * *",
    start_date=pendulum.datetime(2026, 1, 1, tz=TZ),
    catchup=False,
    max_active_runs=1,
    tags=["licence-reminder", "dispatch", "alert"],
    default_args={"retries": 2, "retry_delay": dt.timedelta(minutes=2)},
    doc_md="# Dispatch deadline\n\nAt ``LR_DISPATCH_DEADLINE`` (the city's time, 12:00 by default) "
    "this checks that the day's scheduled ``dispatch_reminders`` run has finished "
    "successfully; if not (still running, failed, or never started: a paused DAG, a "
    "scheduler down), it alerts once for the day by e-mail and group robot "
    "(``licence_reminder.alerts``, docs/adr/0501-alerts-and-holds.md).",
)
def dispatch_deadline():
    @task
    def check(**context) -> dict:
        from licence_reminder.tasks import check_dispatch_finished

        return check_dispatch_finished(day=run_day(context), schedule=SCHEDULE, runs=context["ti"])

    check()


dispatch_deadline()
