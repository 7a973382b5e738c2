"""Delivery receipts for every provider, against MariaDB and the simulator."""

from __future__ import annotations

import pytest
from licence_reminder import receipts
from support.dispatch_world import PROVIDERS, attempts, gateway, prepare, send
from support.ledger_world import q


def collect(ledger, gw) -> dict:  # type: ignore[no-untyped-def]
    return receipts.collect(ledger, lambda _: gw, run_id="r1")


def statuses(ledger) -> tuple[str, str]:  # type: ignore[no-untyped-def]
    (m,) = q(ledger, "SELECT status FROM outbox_message")
    (r,) = q(ledger, "SELECT status FROM reminder")
    return m.status, r.status


@pytest.mark.mariadb
@pytest.mark.parametrize("provider", PROVIDERS)
def test_delivered_report_marks_message_and_reminder_delivered(setup, provider: str) -> None:  # type: ignore[no-untyped-def]
    ledger, _, sim, _ = setup
    cfg, gw = gateway(setup, provider)
    prepare(setup, cfg, "R0001")
    assert send(ledger, gw) == {"sent": 1}
    assert collect(ledger, gw) == {"delivered": 1}
    assert statuses(ledger) == ("delivered", "delivered")
    assert attempts(ledger) == [("send", "accepted"), ("receipt", "delivered")]
    assert collect(ledger, gw) == {}  # a report is taken once
    assert len(attempts(ledger)) == 2 and len(sim.messages()) == 1
    (day,) = q(
        ledger,
        "SELECT messages_accepted, reported_delivered, reported_undelivered FROM v_delivery_daily",
    )
    assert tuple(day) == (1, 1, 0)


@pytest.mark.mariadb
@pytest.mark.parametrize("provider", PROVIDERS)
def test_undelivered_report_puts_the_reminder_on_the_call_list(setup, provider: str) -> None:  # type: ignore[no-untyped-def]
    ledger, _, sim, _ = setup
    cfg, gw = gateway(setup, provider)
    prepare(setup, cfg, "R0002")
    sim.set_faults([{"fault": "undelivered"}])
    assert send(ledger, gw) == {"sent": 1}
    assert collect(ledger, gw) == {"undelivered": 1}
    assert statuses(ledger) == ("call_list", "call_list")
    (r,) = q(ledger, "SELECT status_reason FROM reminder")
    assert r.status_reason.startswith("not delivered: ")
    assert attempts(ledger)[-1] == ("receipt", "undelivered")
    send(ledger, gw)
    assert len(sim.messages()) == 1  # a phone call follows, not a second SMS


@pytest.mark.mariadb
def test_no_report_yet_is_asked_again_next_time(setup) -> None:  # type: ignore[no-untyped-def]
    ledger, _, sim, _ = setup
    cfg, gw = gateway(setup, "tencent")
    prepare(setup, cfg, "R0003")
    sim.set_faults([], receipt_delay_seconds=3600)
    assert send(ledger, gw) == {"sent": 1}
    assert collect(ledger, gw) == {"awaiting": 1}
    assert statuses(ledger) == ("sent", "sent") and attempts(ledger) == [("send", "accepted")]
    sim.set_faults([], receipt_delay_seconds=0)
    assert collect(ledger, gw) == {"delivered": 1}


@pytest.mark.mariadb
def test_a_failed_query_leaves_the_message_as_sent(setup) -> None:  # type: ignore[no-untyped-def]
    ledger, _, sim, _ = setup
    cfg, gw = gateway(setup, "aliyun")
    prepare(setup, cfg, "R0004")
    send(ledger, gw)
    sim.set_faults([{"on": "query", "fault": "throttled", "times": 1}])
    assert collect(ledger, gw) == {"lookup_failed": 1}
    assert statuses(ledger) == ("sent", "sent")
    assert collect(ledger, gw) == {"delivered": 1}
