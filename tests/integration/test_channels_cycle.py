"""A licence cycle on MariaDB under the policy SMS + mini-program at stage 1 and SMS +
mini-program + in-system prompt at stage 2, through the dispatch's task layer, the simulator's
SMS and WeChat protocols, the consent intake and the prompt API's functions.

Exactly once per (licence cycle, stage, channel); a one-time consent used up by one message; the
call task only where no channel reached the holder; every channel's outcome in the audit views.
"""

from __future__ import annotations

import datetime as dt

import pytest
from support.channels import OPENIDS, catalogue_with, dispatch_day, point_tasks_at
from support.ledger_world import DEPT, TODAY, create_source_table, licence, put, q, run_sync

EXPIRY_IN = 30  # the test catalogue reminds 30 and 7 days before expiry


@pytest.fixture
def world(mariadb_factory, monkeypatch, tmp_path):  # type: ignore[no-untyped-def]
    from licence_reminder import schema
    from licence_reminder.db import engine_from_url
    from licence_reminder.simulator.server import start_in_thread
    from licence_reminder.sync import plan as planning

    ledger_url = mariadb_factory()
    ledger, source = engine_from_url(ledger_url), engine_from_url(mariadb_factory())
    schema.upgrade(ledger)
    create_source_table(source)
    planning.register_department(
        ledger, DEPT, catalogue_with(["sms", "miniprogram"], ["sms", "miniprogram", "prompt"])
    )
    sim = start_in_thread()
    point_tasks_at(monkeypatch, ledger_url=ledger_url, sim=sim, tmp_path=tmp_path)
    yield ledger, source, sim
    sim.stop()
    ledger.dispose()
    source.dispose()


def consent(ledger, ref: str, who: str, **kw) -> None:  # type: ignore[no-untyped-def]
    from licence_reminder.channels import consent as consents
    from licence_reminder.simulator.wechat import DEMO_TEMPLATE_ID

    consents.record(
        ledger,
        "miniapp",
        {"client_ref": ref, "openid": OPENIDS[who], "template_id": DEMO_TEMPLATE_ID, **kw},
    )


@pytest.mark.mariadb
def test_a_cycle_over_every_channel(world) -> None:  # type: ignore[no-untyped-def]
    from licence_reminder.channels import prompts
    from licence_reminder.simulator.wechat import DEMO_TEMPLATE_ID

    ledger, source, sim = world
    rows = {
        "alice": licence("L0001", EXPIRY_IN),  # SMS, one-time consent
        "bob": licence("L0002", EXPIRY_IN),  # SMS, long-term consent
        "carol": licence("L0003", EXPIRY_IN),  # SMS only: no consent
        "dave": licence("L0004", EXPIRY_IN, contact_mobile=None),  # nothing reaches: a call task
        "erin": licence(
            "L0005", EXPIRY_IN, contact_mobile="12345"
        ),  # no SMS, the mini-program reaches
    }
    put(source, *rows.values())
    run_sync(ledger, source)
    consent(ledger, "c-alice-1", "alice", contact_mobile=rows["alice"]["contact_mobile"])
    consent(
        ledger, "c-bob-1", "bob", contact_mobile=rows["bob"]["contact_mobile"], kind="long_term"
    )
    consent(ledger, "c-erin-1", "erin", holder_code=rows["erin"]["holder_code"])
    # the holders tapped "allow" in the mini-program: WeChat knows their subscriptions too
    sim.wechat.subscribe(OPENIDS["alice"], DEMO_TEMPLATE_ID)
    sim.wechat.subscribe(OPENIDS["bob"], DEMO_TEMPLATE_ID, kind="long_term")
    sim.wechat.subscribe(OPENIDS["erin"], DEMO_TEMPLATE_ID)
    # alice and erin share the holder code: erin's consent must not reach alice's licence by it
    with ledger.begin() as conn:
        conn.exec_driver_sql(
            "UPDATE wechat_consent SET holder_code = 'X00000000000000000' WHERE client_ref = 'c-erin-1'"
        )
        conn.exec_driver_sql(
            "UPDATE ledger SET holder_code = 'X00000000000000000' WHERE licence_no = 'L0005'"
        )

    stage1 = TODAY
    dispatch_day(stage1)
    by = {
        (r.licence_no, r.channel): (r.status, r.status_reason)
        for r in q(
            ledger,
            "SELECT licence_no, channel, status, status_reason FROM reminder WHERE stage = 1",
        )
    }
    assert {k: v[0] for k, v in by.items()} == {
        ("L0001", "sms"): "delivered",
        ("L0001", "miniprogram"): "sent",  # the carrier's report came in
        ("L0002", "sms"): "delivered",
        ("L0002", "miniprogram"): "sent",
        ("L0003", "sms"): "delivered",
        ("L0003", "miniprogram"): "unreachable",
        ("L0004", "sms"): "call_list",
        ("L0004", "miniprogram"): "unreachable",
        ("L0005", "sms"): "call_list",
        ("L0005", "miniprogram"): "sent",
    }
    assert {m["openid"] for m in sim.wechat.messages} == {
        OPENIDS[w] for w in ("alice", "bob", "erin")
    }
    assert len(sim.messages()) == 3  # SMS to alice, bob, carol
    # the one-time consents are used up by their message, in its send record; the long-term one is not
    used = {
        r.client_ref: (r.status, r.used_message_id)
        for r in q(ledger, "SELECT client_ref, status, used_message_id FROM wechat_consent")
    }
    assert used["c-alice-1"][0] == used["c-erin-1"][0] == "used" and used["c-bob-1"] == (
        "granted",
        None,
    )
    alice_msg = q(
        ledger,
        "SELECT m.id FROM outbox_message m JOIN reminder r ON r.message_id = m.id "
        "WHERE r.licence_no = 'L0001' AND r.channel = 'miniprogram'",
    )[0].id
    assert used["c-alice-1"][1] == alice_msg
    # a call task only where no channel reached the holder: dave (no mobile, no consent), not erin
    tasks = q(ledger, "SELECT licence_no, reason_code FROM call_task")
    assert [(t.licence_no, t.reason_code) for t in tasks] == [("L0004", "no_mobile")]
    # the audit names the channel of each attempt
    channels = {
        (r.licence_no, r.channel)
        for r in q(ledger, "SELECT licence_no, channel FROM v_delivery_log WHERE kind = 'send'")
    }
    assert ("L0001", "miniprogram") in channels and ("L0001", "sms") in channels
    daily = {
        r.channel: r.messages_accepted
        for r in q(ledger, "SELECT channel, messages_accepted FROM v_delivery_daily")
    }
    assert daily == {"sms": 3, "miniprogram": 3}

    # the same day again: nothing is sent twice, on any channel
    dispatch_day(stage1)
    assert len(sim.messages()) == 3 and len(sim.wechat.messages) == 3
    assert q(ledger, "SELECT COUNT(*) AS n FROM reminder")[0].n == 10

    # stage 2: alice's one-time consent is gone (unreachable), bob's long-term one carries it again;
    # every holder gets an in-system prompt
    stage2 = TODAY + dt.timedelta(days=EXPIRY_IN - 7)
    dispatch_day(stage2)
    by2 = {
        (r.licence_no, r.channel): r.status
        for r in q(ledger, "SELECT licence_no, channel, status FROM reminder WHERE stage = 2")
    }
    assert (
        by2[("L0001", "miniprogram")] == "unreachable" and by2[("L0002", "miniprogram")] == "sent"
    )
    assert {k for k, v in by2.items() if k[1] == "prompt" and v == "queued"} == {
        (f"L000{i}", "prompt") for i in range(1, 6)
    }
    assert len(sim.wechat.messages) == 4
    # dave is phoned again at stage 2: the prompt is not a reason to wait for him to log in; so is
    # erin, whose one consent went with the first reminder (the second needs a second "allow")
    assert by2[("L0005", "miniprogram")] == "unreachable"
    assert sorted(
        (t.licence_no, t.stage) for t in q(ledger, "SELECT licence_no, stage FROM call_task")
    ) == [("L0004", 1), ("L0004", 2), ("L0005", 2)]

    # dave's department's business system shows him the prompt: acknowledged, an audit row
    feed = prompts.page(ledger, DEPT.code, cursor=0, limit=100, caller="biz")
    dave = next(p for p in feed["prompts"] if p["licence_no"] == "L0004")
    assert prompts.acknowledge(ledger, DEPT.code, [dave["id"]], by="window 3", caller="biz") == [
        {"id": dave["id"], "status": "acknowledged", "acknowledged": True}
    ]
    assert (
        q(ledger, "SELECT status FROM reminder WHERE licence_no = 'L0004' AND channel = 'prompt'")[
            0
        ].status
        == "delivered"
    )
    acks = q(
        ledger, "SELECT licence_no, channel, kind, outcome FROM v_delivery_log WHERE kind = 'ack'"
    )
    assert [(a.licence_no, a.channel, a.outcome) for a in acks] == [
        ("L0004", "prompt", "acknowledged")
    ]

    # after expiry: every licence reached by some channel is not in the lapsed report; the
    # assessment counts reach by mini-program and by acknowledged prompt
    with ledger.begin() as conn:  # the cycle is over: expiry in the past as the views see it
        conn.exec_driver_sql("UPDATE ledger SET expiry_date = expiry_date - INTERVAL 60 DAY")
        conn.exec_driver_sql("UPDATE reminder SET expiry_date = expiry_date - INTERVAL 60 DAY")
        conn.exec_driver_sql("UPDATE call_task SET expiry_date = expiry_date - INTERVAL 60 DAY")
    assert q(ledger, "SELECT licence_no FROM v_expired_without_delivery") == []
    (year,) = q(
        ledger,
        "SELECT reminded, reached_by_miniprogram, acknowledged_in_system FROM v_assessment_yearly",
    )
    assert (year.reminded, year.reached_by_miniprogram, year.acknowledged_in_system) == (5, 3, 1)
    outcomes = {
        r.channel: r.n
        for r in q(
            ledger, "SELECT channel, SUM(reached) AS n FROM v_reminder_channels GROUP BY channel"
        )
    }
    assert outcomes == {"sms": 6, "miniprogram": 4, "prompt": 1}
