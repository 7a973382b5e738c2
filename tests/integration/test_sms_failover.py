"""SMS provider failover against two simulators (two providers that fail on their own), on MariaDB
and SQLite: a failing provider is stepped over, a message in doubt is settled where it went before
it may go anywhere else, and nothing goes out twice. The provider of every attempt is audited.

Provider A (``sms_aliyun``) is the connection the messages are written for; B (``sms_standby``,
Tencent's protocol on a second simulator) is the failover list's next.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter

import pytest
from licence_reminder import dispatch, failover
from support.dispatch_world import gateway, prepare
from support.faults import LostRequests
from support.ledger_world import q

A, B = "sms_aliyun", "sms_standby"


@pytest.fixture
def two(setup, second_sim):  # type: ignore[no-untyped-def]
    cfg_a, gw_a = gateway(setup, "aliyun")
    cfg_b, gw_b = gateway(setup, "tencent", sim=second_sim, conn_id=B)
    return cfg_a, gw_a, dispatch.GatewayProfile.of(cfg_b), gw_b


def router(profile_b, threshold: int = 2) -> failover.Router:  # type: ignore[no-untyped-def]
    return failover.Router(
        failover.FailoverSettings(order=(A, B), threshold=threshold), {B: profile_b}
    )


def send(ledger, gw_a, gw_b, route: failover.Router, wait: float = 0) -> dict:  # type: ignore[no-untyped-def]
    return dispatch.send_shard(
        ledger,
        {A: gw_a, B: gw_b}.__getitem__,
        shard=0,
        run_id="d1",
        max_wait_seconds=wait,
        router=route,
    )


def audit(ledger, message_id: str) -> list[tuple[str, str, str | None]]:  # type: ignore[no-untyped-def]
    return [
        (r.kind, r.outcome, r.gateway_conn_id)
        for r in q(
            ledger,
            "SELECT kind, outcome, gateway_conn_id FROM delivery_attempt WHERE message_id = :m ORDER BY id",
            m=message_id,
        )
    ]


def accepted(*sims) -> Counter:  # type: ignore[no-untyped-def]
    """How many times each outbox message id was accepted, over every provider."""
    return Counter(m["out_id"] for sim in sims for m in sim.messages())


@pytest.mark.mariadb
def test_a_provider_failing_with_5xx_is_stepped_over_and_each_message_goes_once(
    setup, second_sim, two
) -> None:  # type: ignore[no-untyped-def]
    ledger, _, sim, _ = setup
    cfg_a, gw_a, profile_b, gw_b = two
    prepare(setup, cfg_a, *(f"F{n:04d}" for n in range(1, 9)))
    sim.set_faults([{"fault": "http_500"}])
    out = send(ledger, gw_a, gw_b, router(profile_b), wait=15)
    assert out["sent"] == 8 and out["cooled_down"] == 1 and out["failed_over"] == 8
    assert out["retry_scheduled"] == 2  # the two failures that made A cool down
    assert sim.messages() == []
    ids = {r.id for r in q(ledger, "SELECT id FROM outbox_message")}
    assert accepted(second_sim) == Counter(ids)  # each once, all at B
    rows = q(
        ledger, "SELECT status, gateway, gateway_conn_id, provider_message_id FROM outbox_message"
    )
    assert {(r.status, r.gateway, r.gateway_conn_id) for r in rows} == {("sent", "tencent", B)}
    assert sorted(r.provider_message_id for r in rows) == sorted(
        m["provider_id"] for m in second_sim.messages()
    )
    (health,) = q(ledger, "SELECT conn_id, cooldown_until, reason FROM sms_provider_health")
    assert (
        health.conn_id == A and "2 transient failures in a row, the last HTTP_500" in health.reason
    )
    failovers = q(
        ledger,
        "SELECT message_id, gateway, gateway_conn_id, detail FROM delivery_attempt WHERE kind = 'failover'",
    )
    assert sorted(f.message_id for f in failovers) == sorted(ids)  # one per message
    assert all((f.gateway, f.gateway_conn_id) == ("tencent", B) for f in failovers)
    assert all(f.detail.startswith(f"from {A} to {B}: {A} cooling down until") for f in failovers)
    # the audit names the connection of every call: A's refusals, then B's acceptance
    sends = Counter(
        (r.gateway_conn_id, r.outcome)
        for r in q(
            ledger, "SELECT gateway_conn_id, outcome FROM delivery_attempt WHERE kind = 'send'"
        )
    )
    assert sends == {(A, "transient"): 2, (B, "accepted"): 8}
    assert {r.status for r in q(ledger, "SELECT status FROM reminder")} == {"sent"}

    assert send(ledger, gw_a, gw_b, router(profile_b)) == {}  # nothing twice
    assert accepted(sim, second_sim) == Counter(ids)


@pytest.mark.mariadb
def test_a_message_in_doubt_is_settled_at_its_provider_and_never_sent_through_another(
    setup, second_sim, two
) -> None:  # type: ignore[no-untyped-def]
    """A took the first message but its reply never came; then A fails every call. The message
    is looked up at A (found: sent there) while the others fail over to B."""
    ledger, _, sim, _ = setup
    cfg_a, gw_a, profile_b, gw_b = two
    prepare(setup, cfg_a, "D0001", "D0002", "D0003", "D0004")
    sim.set_faults([{"fault": "timeout", "times": 1}, {"fault": "http_500"}], timeout_seconds=2.5)
    out = send(ledger, gw_a, gw_b, router(profile_b), wait=15)
    assert out["recovered_sent"] == 1 and out["sent"] == 3 and out["cooled_down"] == 1
    (doubted,) = sim.messages()
    (m,) = q(
        ledger,
        "SELECT status, gateway_conn_id, provider_message_id FROM outbox_message WHERE id = :i",
        i=doubted["out_id"],
    )
    assert (m.status, m.gateway_conn_id, m.provider_message_id) == (
        "sent",
        A,
        doubted["provider_id"],
    )
    assert audit(ledger, doubted["out_id"]) == [
        ("send", "transient", A),
        ("lookup", "recovered", A),
    ]
    ids = {r.id for r in q(ledger, "SELECT id FROM outbox_message")}
    assert accepted(sim, second_sim) == Counter(ids)  # each once, over both providers
    assert doubted["out_id"] not in accepted(second_sim)


@pytest.mark.mariadb
def test_a_message_in_doubt_goes_through_another_provider_only_once_its_own_has_no_record(
    setup, second_sim, two
) -> None:  # type: ignore[no-untyped-def]
    ledger, _, sim, _ = setup
    cfg_a, gw_a, profile_b, gw_b = two
    prepare(setup, cfg_a, "E0001")
    out = send(ledger, LostRequests(gw_a, 1), gw_b, router(profile_b, threshold=1), wait=10)
    assert out["recovered_pending"] == 1 and out["sent"] == 1 and out["failed_over"] == 1
    (m,) = q(ledger, "SELECT id, status, gateway_conn_id FROM outbox_message")
    assert (m.status, m.gateway_conn_id) == ("sent", B)
    # in doubt at A, looked up at A (no record: it never arrived), and only then sent through B
    assert audit(ledger, m.id) == [
        ("send", "transient", A),
        ("lookup", "not_found", A),
        ("failover", "rerouted", B),
        ("send", "accepted", B),
    ]
    assert accepted(sim, second_sim) == Counter([m.id])


@pytest.mark.mariadb
def test_a_message_in_doubt_waits_for_its_provider_while_the_others_fail_over(
    setup, second_sim, two
) -> None:  # type: ignore[no-untyped-def]
    """A cannot answer a status query either: its message in doubt stays in doubt (not sent
    through B, where it might go out a second time) until A can say what became of it."""
    ledger, _, sim, _ = setup
    cfg_a, gw_a, profile_b, gw_b = two
    prepare(setup, cfg_a, "W0001", "W0002", "W0003")
    sim.set_faults(
        [
            {"fault": "timeout", "times": 1},
            {"on": "query", "fault": "throttled"},
            {"fault": "http_500"},
        ],
        timeout_seconds=2.5,
    )
    out = send(ledger, gw_a, gw_b, router(profile_b), wait=15)
    assert out["sent"] == 2 and out["lookup_failed"] >= 1
    (doubted,) = sim.messages()
    assert (
        q(ledger, "SELECT status FROM outbox_message WHERE id = :i", i=doubted["out_id"])[0].status
        == "unknown"
    )
    assert doubted["out_id"] not in accepted(second_sim)

    sim.set_faults([{"fault": "http_500"}])  # A answers queries again, still fails sends
    assert send(ledger, gw_a, gw_b, router(profile_b)) == {"recovered_sent": 1}
    ids = {r.id for r in q(ledger, "SELECT id FROM outbox_message")}
    assert accepted(sim, second_sim) == Counter(ids)
    assert (
        q(ledger, "SELECT gateway_conn_id FROM outbox_message WHERE id = :i", i=doubted["out_id"])[
            0
        ].gateway_conn_id
        == A
    )


@pytest.mark.mariadb
def test_the_operator_switch(setup, second_sim, two) -> None:  # type: ignore[no-untyped-def]
    """Switched off, A takes no call at all; with nowhere else to go a message waits, untried;
    switched on, A takes messages again."""
    ledger, _, sim, _ = setup
    cfg_a, gw_a, profile_b, gw_b = two
    prepare(setup, cfg_a, "S0001", "S0002")
    failover.switch(ledger, A, off=True, by="ops:li", reason="provider maintenance")
    alone = failover.Router(failover.FailoverSettings(order=()))
    assert send(ledger, gw_a, gw_b, alone) == {"held_switched_off": 2}
    assert sim.messages() == [] and q(ledger, "SELECT * FROM delivery_attempt") == []
    rows = q(ledger, "SELECT status, attempts, next_attempt_at FROM outbox_message")
    assert {(r.status, r.attempts) for r in rows} == {("pending", 0)} and all(
        r.next_attempt_at for r in rows
    )

    with ledger.begin() as conn:  # the minute of waiting is over
        conn.exec_driver_sql("UPDATE outbox_message SET next_attempt_at = NULL")
    assert send(ledger, gw_a, gw_b, router(profile_b)) == {"sent": 2, "failed_over": 2}
    assert sim.messages() == [] and len(second_sim.messages()) == 2
    (f, _) = q(ledger, "SELECT detail FROM delivery_attempt WHERE kind = 'failover'")
    assert f.detail == f"from {A} to {B}: {A} switched off by ops:li: provider maintenance"

    failover.switch(ledger, A, off=False, by="ops:li")
    prepare_more = q(ledger, "SELECT switched_off, switched_by FROM sms_provider_health")
    assert [(bool(r.switched_off), r.switched_by) for r in prepare_more] == [(False, "ops:li")]


@pytest.mark.mariadb
def test_a_message_the_standby_has_no_approved_template_for_stays_with_its_provider(
    setup, second_sim
) -> None:  # type: ignore[no-untyped-def]
    ledger, _, sim, _ = setup
    cfg_a, gw_a = gateway(setup, "aliyun")
    cfg_b, gw_b = gateway(
        setup, "tencent", sim=second_sim, conn_id=B, templates={"other.x.stage1": "1234"}
    )
    prepare(setup, cfg_a, "T0001")
    with ledger.begin() as conn:
        conn.exec_driver_sql(
            "INSERT INTO sms_provider_health (conn_id, cooldown_until, reason, switched_off, updated_at) "
            f"VALUES ('{A}', '2099-01-01 00:00:00', 'test', FALSE, '2026-01-01 00:00:00')"
        )
    out = send(ledger, gw_a, gw_b, router(dispatch.GatewayProfile.of(cfg_b)))
    assert out == {"sent": 1}  # cooling down, but nowhere else can send it: tried where it is
    assert len(sim.messages()) == 1 and second_sim.messages() == []


def test_failover_settings_from_the_environment() -> None:
    s = failover.FailoverSettings.from_env(
        {
            "LR_SMS_FAILOVER": " sms_gateway, sms_standby,sms_gateway ",
            "LR_SMS_FAILOVER_THRESHOLD": "3",
            "LR_SMS_COOLDOWN_SECONDS": "60",
        }
    )
    assert (s.order, s.threshold, s.cooldown) == (
        ("sms_gateway", "sms_standby"),
        3,
        dt.timedelta(seconds=60),
    )
    assert failover.FailoverSettings.from_env({}) == failover.FailoverSettings()
    with pytest.raises(
        ValueError, match="LR_SMS_FAILOVER_THRESHOLD must be a positive whole number"
    ):
        failover.FailoverSettings.from_env({"LR_SMS_FAILOVER_THRESHOLD": "0"})


def test_the_switch_from_the_command_line(ledger_sqlite, capsys, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from licence_reminder import cli

    url = str(ledger_sqlite.url)
    monkeypatch.setenv("LR_SMS_FAILOVER", f"{A},{B}")
    assert cli.main(["gateways", "status", "--url", url]) == 0
    assert "no SMS gateway connection has been stepped over or switched" in capsys.readouterr().out
    assert (
        cli.main(["gateways", "off", A, "--reason", "maintenance", "--by", "ops:li", "--url", url])
        == 0
    )
    assert cli.main(["gateways", "status", "--url", url]) == 0
    out = capsys.readouterr().out
    assert (
        f"failover list: {A}, {B}" in out
        and "switched off (by ops:li at" in out
        and ": maintenance)" in out
    )
    assert cli.main(["gateways", "on", A, "--url", url]) == 0
    cli.main(["gateways", "status", "--url", url])
    assert f"{A:<24} on (by cli:" in capsys.readouterr().out
