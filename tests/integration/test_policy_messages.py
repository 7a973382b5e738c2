"""The reminder policy's cases, each producing exactly the expected SMS at the simulator.

Real MariaDB ledger and source, the simulator on loopback with the catalogue's templates approved
(each message is checked against its text), the dispatch run on two days of one cycle: the
first-reminder day and the second-reminder day of the oldest licences.
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
import re
from typing import Any

import pytest
import sqlalchemy as sa
from licence_reminder import dispatch, sync
from licence_reminder.policy import Policy
from licence_reminder.registry import Catalogue
from licence_reminder.sync import plan as planning
from support.ledger_world import DEPT, create_source_table, licence, put

T = dt.date(2026, 11, 24)
FOOD, DRUG = "食品经营许可证", "药品经营许可证"
CATALOGUE = Catalogue.model_validate(
    {
        "department": "testdept",
        "entries": [
            {
                "licence_name": name,
                "approval_item": name.removesuffix("证"),
                "office": "审批科",
                "statutory_validity": "5年",
                "renewal_window": "有效期届满30日前",
                "first_lead_days": lead,
                "online_url": "https://zwfw.example.gov.cn",
                "service_phone": "0372-1234567",
                "materials": ["延续申请书"],
                "lapse_consequences": f"{name}过期后继续经营将被依法查处。",
            }
            for name, lead in ((FOOD, 30), (DRUG, 60))
        ],
    }
)
#: no mapping: the template names are the codes the simulator approved
TEMPLATES: dict[str, str] = {}
_runs = itertools.count(1)


def mobile(no: str) -> str:
    return f"1380000{int(no[-4:]):04d}"


@pytest.fixture
def world(mariadb_factory):  # type: ignore[no-untyped-def]
    from licence_reminder import schema
    from licence_reminder.db import engine_from_url
    from licence_reminder.gateways.aliyun import AliyunSms
    from licence_reminder.simulator.server import start_in_thread

    ledger, source = engine_from_url(mariadb_factory()), engine_from_url(mariadb_factory())
    schema.upgrade(ledger)
    create_source_table(source)
    planning.register_department(ledger, DEPT, CATALOGUE)
    sim = start_in_thread()
    approve(sim, "aliyun")
    gw = AliyunSms(
        endpoint=f"{sim.url}/aliyun/",
        access_key_id="sim-aliyun-key",
        access_key_secret="sim-aliyun-secret",
        sign_name="安阳市政务服务",
        timeout=2.0,
    )
    yield ledger, source, sim, gw
    gw.close()
    sim.stop()
    ledger.dispose()
    source.dispose()


def sync_day(ledger: sa.Engine, source: sa.Engine, day: dt.date) -> None:
    plan = planning.start_run(
        ledger, DEPT, run_id=f"testdept:p{next(_runs)}", logical_date=day, force_full=True
    )
    assert sync.run(ledger, source, DEPT, CATALOGUE, plan, today=day).stats.rows_rejected == 0


def dispatch_day(ledger: sa.Engine, gw: Any, day: dt.date, policy: Policy | None = None) -> None:
    policy = policy or Policy()
    run_id = f"dispatch:{day}:{next(_runs)}"
    dispatch.plan(ledger, today=day, run_id=run_id, policy=policy)
    profile = dispatch.GatewayProfile(
        conn_id="sms_gateway", provider="aliyun", sign_name="安阳市政务服务", templates=TEMPLATES
    )
    dispatch.render_outbox(ledger, today=day, run_id=run_id, profile_for=lambda _: profile)
    dispatch.send_shard(ledger, lambda _: gw, shard=0, run_id=run_id, max_wait_seconds=0)


def approve(sim: Any, provider: str) -> None:
    """The simulator approves the catalogue's templates, as printed by `catalogue templates`."""
    from licence_reminder.catalogue_check import describe, documented_gateways

    items = describe(
        CATALOGUE, catalogue_url=None, today=T, gateways=documented_gateways([provider])
    )
    sim.approve(provider, {i["name"]: i["texts"][provider] for i in items})


def received(sim: Any, since: int = 0) -> set[tuple[str, int, str, dt.date]]:
    """(mobile, stage, licence, expiry stated) of each message the simulator delivered."""
    out = set()
    for m in sim.messages()[since:]:
        content = m["content"]
        assert content.startswith("【安阳市政务服务】尊敬的张三：安阳市某某食品有限公司的"), content
        y, mo, d = re.search(r"将于(\d{4})年(\d{1,2})月(\d{1,2})日", content).groups()  # type: ignore[union-attr]
        out.add(
            (
                m["mobile"],
                int(m["template"][-1]),
                FOOD if FOOD in content else DRUG,
                dt.date(int(y), int(mo), int(d)),
            )
        )
    return out


def days(n: int, day: dt.date = T) -> dt.date:
    return day + dt.timedelta(days=n)


@pytest.mark.mariadb
def test_each_policy_case_gives_exactly_its_messages(world) -> None:  # type: ignore[no-untyped-def]
    ledger, source, sim, gw = world
    shared = mobile("0007")  # one holder, two licences due the same day
    put(
        source,
        licence("F0001", 30),  # first-reminder day
        licence("F0002", 20),  # late entry inside the first window
        licence("F0003", 5),  # late entry inside the last 7 days
        licence("F0004", -1),  # expired yesterday
        licence("F0005", 30, status="revoked"),
        licence("F0006", 20, status="cancelled"),
        licence("F0007", 30),
        licence("D0008", 30, licence_name=DRUG, contact_mobile=shared),  # inside the 60-day lead
        licence("D0009", 60, licence_name=DRUG),  # the catalogue's 60-day lead
        licence("F0010", 31),  # not yet
        licence("F0011", 5, renewal_applied_on=T - dt.timedelta(days=2)),
    )  # applied: no reminder
    sync_day(ledger, source, T)
    dispatch_day(ledger, gw, T)

    assert received(sim) == {
        (mobile("0001"), 1, FOOD, days(30)),
        (mobile("0002"), 1, FOOD, days(20)),
        (mobile("0003"), 2, FOOD, days(5)),
        (shared, 1, FOOD, days(30)),  # one holder's two kinds of licence: a message each,
        (shared, 1, DRUG, days(30)),  # each from its own entry's template
        (mobile("0009"), 1, DRUG, days(60)),
    }
    stage2 = next(m for m in sim.messages() if m["template"].endswith("stage2"))
    assert f"{FOOD}过期后继续经营将被依法查处。" in stage2["content"]
    first = next(m for m in sim.messages() if m["mobile"] == mobile("0001"))
    assert "（30天后）到期，请2026年12月24日前申请延续" in first["content"]
    assert len(sim.messages()) == 6

    # The second-reminder day of F0001/F0007/D0008: F0007's holder applied to renew meanwhile.
    day2 = T + dt.timedelta(days=23)
    put(
        source,
        licence(
            "F0007",
            30,
            renewal_applied_on=day2 - dt.timedelta(days=1),
            source_updated_at=dt.datetime(2026, 12, 16, 8),
        ),
    )
    sync_day(ledger, source, day2)
    dispatch_day(ledger, gw, day2)
    assert received(sim, since=6) == {
        (mobile("0001"), 2, FOOD, days(7, day2)),
        (shared, 2, DRUG, days(7, day2)),
        (mobile("0010"), 1, FOOD, days(8, day2)),  # its first-reminder day was missed: caught up
    }
    dispatch_day(ledger, gw, day2)  # a re-run sends nothing
    assert len(sim.messages()) == 9


@pytest.mark.mariadb
def test_reminder_due_on_a_holiday_goes_out_the_working_day_before(world) -> None:  # type: ignore[no-untyped-def]
    ledger, source, sim, gw = world
    eve = dt.date(
        2026, 9, 30
    )  # the first reminder date 2026-10-03 falls in the National Day holiday
    put(
        source,
        licence("F0021", 0, expiry_date=dt.date(2026, 11, 2), issue_date=dt.date(2021, 11, 3)),
    )
    sync_day(ledger, source, eve)
    dispatch_day(ledger, gw, eve)
    assert sim.messages() == []
    dispatch_day(ledger, gw, eve, Policy(working_days_only=True))
    assert received(sim) == {(mobile("0021"), 1, FOOD, dt.date(2026, 11, 2))}


@pytest.mark.mariadb
def test_outside_sending_hours_nothing_leaves_and_it_stays_queued(
    world, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    from conftest import airflow_conn_json
    from licence_reminder import tasks

    ledger, source, sim, _ = world
    put(source, licence("F0031", 30))
    sync_day(ledger, source, T)
    monkeypatch.setenv(
        "AIRFLOW_CONN_LICENCE_LEDGER",
        airflow_conn_json(ledger.url.render_as_string(hide_password=False)),
    )
    monkeypatch.setenv("AIRFLOW_CONN_SMS_GATEWAY", json.dumps(sim.connection("aliyun")))
    monkeypatch.setenv("LR_REGISTRY_DIR", "/nonexistent")  # no department names its own gateway
    monkeypatch.setenv("LR_SEND_SHARDS", "1")
    tasks.dispatch_plan(today=T.isoformat(), run_id="d")
    tasks.dispatch_render(today=T.isoformat(), run_id="d")
    monkeypatch.setenv("LR_SENDING_HOURS", "0-0")
    # the run's outcome says so (the task fails, without retrying), not only a log line
    from airflow.sdk.exceptions import AirflowFailException

    with pytest.raises(
        AirflowFailException,
        match=r"shard 0: outside the sending hours 00:00-00:00 "
        r"Asia/Shanghai .*nothing sent, 1 message\(s\) stay queued",
    ):
        tasks.dispatch_send(shard=0, run_id="d")
    assert sim.messages() == []
    with ledger.connect() as conn:
        assert conn.execute(sa.text("SELECT status FROM outbox_message")).scalars().all() == [
            "pending"
        ]
    monkeypatch.setenv("LR_SENDING_HOURS", "0-24")
    tasks.dispatch_send(shard=0, run_id="d")
    assert received(sim) == {(mobile("0031"), 1, FOOD, days(30))}
    monkeypatch.setenv("LR_SENDING_HOURS", "0-0")  # nothing left to send: nothing to say
    assert tasks.dispatch_send(shard=0, run_id="d") == {"outside_sending_hours": 1}


@pytest.mark.mariadb
def test_a_message_not_sent_on_its_day_is_written_again_with_the_days_left(world) -> None:  # type: ignore[no-untyped-def]
    ledger, source, sim, gw = world
    put(source, licence("F0041", 30))
    sync_day(ledger, source, T)
    profile = dispatch.GatewayProfile(
        conn_id="sms_gateway", provider="aliyun", sign_name="安阳市政务服务", templates=TEMPLATES
    )
    dispatch.plan(ledger, today=T, run_id="late1")
    dispatch.render_outbox(ledger, today=T, run_id="late1", profile_for=lambda _: profile)
    # nothing went out that day (sending hours closed); the next day's run writes it again
    with ledger.begin() as conn:
        conn.execute(
            sa.text("UPDATE outbox_message SET created_at = :t"),
            {"t": dt.datetime.combine(T, dt.time(9))},
        )
    day2 = T + dt.timedelta(days=1)
    dispatch_day(ledger, gw, day2)
    assert received(sim) == {(mobile("0041"), 1, FOOD, days(30))}
    assert (
        "（29天后）" in sim.messages()[0]["content"]
    )  # counted from the day it went, not the first
    with ledger.connect() as conn:
        outbox = sorted(conn.execute(sa.text("SELECT status FROM outbox_message")).scalars())
        reminder = conn.execute(sa.text("SELECT status FROM reminder")).scalars().all()
    assert outbox == ["sent", "superseded"] and reminder == ["sent"]
