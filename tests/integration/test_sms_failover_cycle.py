"""A dispatch day on MariaDB, through the task layer, while the city's SMS provider answers every
send with a 5xx all day: every message goes out through the failover list's second provider,
exactly once, and the audit names the provider of every message and every call."""

from __future__ import annotations

import json
from collections import Counter

import pytest
from support.channels import dispatch_day, point_tasks_at
from support.ledger_world import (
    CATALOGUE,
    DEPT,
    TODAY,
    create_source_table,
    licence,
    put,
    q,
    run_sync,
)

LICENCES = [f"C{n:04d}" for n in range(1, 11)]


@pytest.fixture
def world(mariadb_factory, second_sim, monkeypatch, tmp_path):  # type: ignore[no-untyped-def]
    from licence_reminder import schema
    from licence_reminder.db import engine_from_url
    from licence_reminder.simulator.server import start_in_thread
    from licence_reminder.sync import plan as planning

    ledger_url = mariadb_factory()
    ledger, source = engine_from_url(ledger_url), engine_from_url(mariadb_factory())
    schema.upgrade(ledger)
    create_source_table(source)
    planning.register_department(ledger, DEPT, CATALOGUE)
    sim = start_in_thread()
    point_tasks_at(monkeypatch, ledger_url=ledger_url, sim=sim, tmp_path=tmp_path)
    monkeypatch.setenv("AIRFLOW_CONN_SMS_STANDBY", json.dumps(second_sim.connection("tencent")))
    monkeypatch.setenv("LR_SMS_FAILOVER", "sms_gateway,sms_standby")
    monkeypatch.setenv("LR_SMS_FAILOVER_THRESHOLD", "2")
    monkeypatch.setenv(
        "LR_RETRY_WAIT", "15"
    )  # a shard's first failures are retried 2 and 4 s later
    yield ledger, source, sim, second_sim
    sim.stop()
    ledger.dispose()
    source.dispose()


@pytest.mark.mariadb
def test_a_provider_down_all_day_every_message_goes_through_the_second_once(world) -> None:  # type: ignore[no-untyped-def]
    ledger, source, sim, standby = world
    put(source, *(licence(no, 30) for no in LICENCES))
    run_sync(ledger, source)
    sim.set_faults([{"fault": "http_500"}])

    out = dispatch_day(TODAY)
    assert sum(s.get("sent", 0) for s in out["send"]) == len(LICENCES)
    assert sum(s.get("cooled_down", 0) for s in out["send"]) >= 1
    assert out["receipts"].get("delivered") == len(LICENCES)  # asked of the provider that took them
    assert sim.messages() == []
    messages = q(ledger, "SELECT id, status, gateway, gateway_conn_id FROM outbox_message")
    assert len(messages) == len(LICENCES)
    assert Counter(m["out_id"] for m in standby.messages()) == Counter(
        m.id for m in messages
    )  # once each
    assert {(m.status, m.gateway, m.gateway_conn_id) for m in messages} == {
        ("delivered", "tencent", "sms_standby")
    }
    assert {r.status for r in q(ledger, "SELECT status FROM reminder")} == {"delivered"}

    # the auditor's view: per licence, the failover and the provider of each call
    log = q(
        ledger,
        "SELECT licence_no, kind, outcome, gateway, gateway_conn_id, response_code, detail "
        "FROM v_delivery_log",
    )
    by_licence: dict[str, list] = {}
    for r in log:
        by_licence.setdefault(r.licence_no, []).append(r)
    assert sorted(by_licence) == LICENCES
    for rows in by_licence.values():
        accepted = [
            (r.gateway, r.gateway_conn_id)
            for r in rows
            if (r.kind, r.outcome) == ("send", "accepted")
        ]
        assert accepted == [("tencent", "sms_standby")]
        (moved,) = [r for r in rows if r.kind == "failover"]
        assert moved.detail.startswith("from sms_gateway to sms_standby: sms_gateway ")
        assert {r.gateway_conn_id for r in rows if r.outcome == "transient"} <= {"sms_gateway"}
    assert Counter(r.gateway_conn_id for r in log if r.kind == "receipt") == {
        "sms_standby": len(LICENCES)
    }
    assert {
        (r.gateway, r.gateway_conn_id, r.response_code) for r in log if r.outcome == "transient"
    } == {("aliyun", "sms_gateway", "HTTP_500")}

    again = dispatch_day(TODAY)  # a second run the same day sends nothing
    assert sum(s.get("sent", 0) for s in again["send"]) == 0
    assert len(standby.messages()) == len(LICENCES) and sim.messages() == []
