"""Settings resolved by name from the environment, with defaults that run the embedded demo.

Nothing here holds a secret: databases and gateways are named by Airflow connection id, and their
credentials live only in Airflow Connections (``AIRFLOW_CONN_<ID>`` or the metadata DB).
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

PROJECT_ROOT = Path(__file__).resolve().parents[2]
INCLUDE_DIR = PROJECT_ROOT / "include"
SQL_DIR = INCLUDE_DIR / "sql"
TEMPLATES_DIR = INCLUDE_DIR / "templates"


def city_zone(env: Mapping[str, str] | None = None) -> str:
    """The city's time zone (``LR_TIMEZONE``, Asia/Shanghai by default): the zone of every time the
    product stores, of the DAGs' schedules and of "today". The one place it is decided."""
    return (os.environ if env is None else env).get("LR_TIMEZONE", "Asia/Shanghai")


def city_date(moment: dt.datetime) -> dt.date:
    """The city's calendar day of an aware moment (a DAG run's logical date is in UTC)."""
    return moment.astimezone(ZoneInfo(city_zone())).date()


def run_day(context: Mapping[str, Any]) -> str:
    """The city's day a DAG run is for (ISO): its logical date, or when it was due to run."""
    moment = context.get("logical_date") or context["dag_run"].run_after
    return city_date(moment).isoformat()


def local_now() -> dt.datetime:
    """Now, to the second, as every time the product stores is kept: naive, in the city's zone
    (``LR_TIMEZONE``, Asia/Shanghai) whatever the zone of the machine (UTC in Airflow's image).
    Business days, reminder dates and the audit views' days are the city's; a stored time in
    another zone would put a message sent at 07:00 Beijing time on the day before."""
    return dt.datetime.now(ZoneInfo(city_zone())).replace(tzinfo=None, microsecond=0)


@dataclass(frozen=True)
class Settings:
    registry_dir: Path
    catalogue_dir: Path
    ledger_conn_id: str
    gateway_conn_id: str
    timezone: str
    sending_hours: tuple[int, int]
    report_dir: Path
    #: the public address ``catalogue publish``'s pages are served from: every reminder links to
    #: its catalogue entry's page under it (None: to the entry's online_url)
    catalogue_url: str | None = None
    #: yuan per billed SMS segment, for the summary's cost figures
    sms_price: float = 0.045
    #: a department whose last good sync finished longer ago than this is held from dispatch
    #: and alerted (LR_MAX_DATA_AGE_HOURS)
    max_data_age: dt.timedelta = dt.timedelta(hours=26)
    #: the city's time of day by which the day's dispatch must have finished (LR_DISPATCH_DEADLINE)
    dispatch_deadline: dt.time = dt.time(12, 0)
    #: alerts by e-mail: the SMTP connection and the addresses (LR_ALERT_SMTP_CONN_ID,
    #: LR_ALERT_EMAIL_TO, comma-separated); no address: no e-mail
    alert_smtp_conn_id: str = "lr_alert_smtp"
    alert_email_to: tuple[str, ...] = ()
    #: alerts to a DingTalk/WeCom group robot: its connection (LR_ALERT_ROBOT_CONN_ID; empty: none)
    alert_robot_conn_id: str | None = None

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> Settings:
        env = dict(os.environ if env is None else env)
        registry = Path(env.get("LR_REGISTRY_DIR", INCLUDE_DIR / "registry" / "departments"))
        catalogue = Path(env.get("LR_CATALOGUE_DIR", registry.parent / "catalogues"))
        start, _, end = env.get("LR_SENDING_HOURS", "9-20").partition("-")
        return cls(
            registry_dir=registry,
            catalogue_dir=catalogue,
            ledger_conn_id=env.get("LR_LEDGER_CONN_ID", "licence_ledger"),
            gateway_conn_id=env.get("LR_GATEWAY_CONN_ID", "sms_gateway"),
            timezone=city_zone(env),
            sending_hours=(int(start), int(end or 24)),
            report_dir=Path(env.get("LR_REPORT_DIR", PROJECT_ROOT / "var" / "reports")),
            catalogue_url=env.get("LR_CATALOGUE_URL") or None,
            sms_price=float(env.get("LR_SMS_PRICE") or 0.045),
            max_data_age=dt.timedelta(hours=float(env.get("LR_MAX_DATA_AGE_HOURS") or 26)),
            dispatch_deadline=dt.time.fromisoformat(env.get("LR_DISPATCH_DEADLINE") or "12:00"),
            alert_smtp_conn_id=env.get("LR_ALERT_SMTP_CONN_ID") or "lr_alert_smtp",
            alert_email_to=tuple(
                a.strip() for a in (env.get("LR_ALERT_EMAIL_TO") or "").split(",") if a.strip()
            ),
            alert_robot_conn_id=env.get("LR_ALERT_ROBOT_CONN_ID") or None,
        )


def scheduled_starts(
    schedule: str, day: dt.date, deadline: dt.time, zone: str
) -> list[dt.datetime]:
    """The times (aware, UTC) ``schedule`` starts a run on the city's ``day`` before ``deadline``:
    the logical dates of that day's scheduled runs. Empty for a schedule croniter does not read."""
    from croniter import croniter

    if not croniter.is_valid(schedule):
        return []
    tz = ZoneInfo(zone)
    due = dt.datetime.combine(day, deadline, tzinfo=tz)
    it = croniter(
        schedule, dt.datetime.combine(day, dt.time(), tzinfo=tz) - dt.timedelta(seconds=1)
    )
    starts = []
    while (start := it.get_next(dt.datetime)) < due:
        starts.append(start.astimezone(dt.UTC))
    return starts
