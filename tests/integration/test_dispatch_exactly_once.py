"""Exactly once against real MariaDB and the simulator, for every provider: crash recovery,
permanent and transient errors, timeouts after acceptance, rejected credentials; and the
per-entry template design: what the provider delivers from its approved text is the audited body,
and a variable over the provider's cap is refused before any call.

Each gateway is built the way the send task builds it: from an Airflow-style connection (the
simulator's own, with the overrides a test needs) through the factory.
"""

from __future__ import annotations

import datetime as dt
import json
import time
from typing import Any

import pytest
import sqlalchemy as sa
from licence_reminder import dispatch
from support.dispatch_world import (
    NUMBERED,
    PAGES,
    PROVIDERS,
    approve,
    attempts,
    gateway,
    prepare,
    send,
)
from support.faults import CrashAfterCalls, SimulatedCrash
from support.ledger_world import TODAY, q


@pytest.mark.mariadb
@pytest.mark.parametrize("provider", PROVIDERS)
def test_sent_once_as_the_provider_expects(setup, provider: str) -> None:  # type: ignore[no-untyped-def]
    ledger, _, sim, _ = setup
    cfg, gw = gateway(setup, provider)
    prepare(setup, cfg, "G0001")
    assert send(ledger, gw) == {"sent": 1}
    assert send(ledger, gw) == {}
    (m,) = q(
        ledger,
        "SELECT id, template_name, template_code, params, provider_message_id FROM outbox_message",
    )
    (got,) = sim.messages()  # accepted: its signature checked out with the simulator's credentials
    params = json.loads(m.params)
    assert (got["protocol"], got["out_id"], got["provider_id"]) == (
        provider,
        m.id,
        m.provider_message_id,
    )
    assert (got["template"], got["sign_name"]) == (
        m.template_name,
        cfg.sign_name,
    )  # no mapping: names are codes
    # Tencent's {1}, {2}… in the order the variables appear in the template
    assert got["params"] == (list(params.values()) if provider == "tencent" else params)


@pytest.mark.mariadb
@pytest.mark.parametrize("provider", PROVIDERS)
def test_the_provider_delivers_from_the_approved_per_entry_template_what_was_audited(
    setup, provider: str
) -> None:  # type: ignore[no-untyped-def]
    """Two licences of one holder and entry due the same day: one message from the entry's
    template, both numbers in it, the link in the approved text and never in a variable."""
    ledger, _, sim, _ = setup
    cfg, gw = gateway(setup, provider)
    approve(setup, provider, NUMBERED)
    prepare(setup, cfg, "P0001", "P0002", catalogue=NUMBERED, contact_mobile="13800000099")
    assert send(ledger, gw) == {"sent": 1}
    (m,) = q(ledger, "SELECT template_name, params, body FROM outbox_message")
    (got,) = sim.messages()
    assert m.template_name == "testdept.spjy.stage1"
    assert (
        got["content"] == f"【{cfg.sign_name}】{m.body}"
    )  # the provider's text is the audited one
    assert "（尾号0001、0002）" in m.body and f"{PAGES}/testdept/spjy.html" in m.body
    values = got["params"].values() if isinstance(got["params"], dict) else got["params"]
    assert not any("http" in v for v in values)
    assert {r.status for r in q(ledger, "SELECT status FROM reminder")} == {"sent"}


@pytest.mark.mariadb
@pytest.mark.parametrize(
    ("provider", "caps"),
    [
        ("aliyun", {}),  # Alibaba's documented 35 characters
        ("tencent", {"max_param_length": 12}),  # a personally-verified account
        ("generic", {"variable_caps": {"holder": 20}}),
    ],
)
def test_a_variable_over_the_cap_is_refused_before_any_call(
    setup, provider: str, caps: dict[str, Any]
) -> None:  # type: ignore[no-untyped-def]
    ledger, _, sim, _ = setup
    cfg, gw = gateway(setup, provider, **caps)
    approve(setup, provider, NUMBERED)
    holder = (
        "安阳市文峰区某某某某某某某某某某某某某某某某某某某某食品经营有限责任公司"  # 36 characters
    )
    out = prepare(setup, cfg, "R0001", catalogue=NUMBERED, holder_name=holder)
    assert out.get("rejected") == 1 and out.get("messages", 0) == 0
    (r,) = q(ledger, "SELECT status, status_reason FROM reminder")
    cap = {"aliyun": 35, "tencent": 12, "generic": 20}[provider]
    assert (
        r.status == "call_list"
        and f"holder ({len(holder)} characters, cap {cap})" in r.status_reason
    )
    assert "某某" not in r.status_reason  # the reason names the variable, never the value
    assert send(ledger, gw) == {} and sim.messages() == []


@pytest.mark.mariadb
def test_the_simulator_refuses_what_the_product_would_not_send(setup) -> None:  # type: ignore[no-untyped-def]
    """Why the product checks: Alibaba refuses a variable over 35 characters, and a template it
    has not approved; the product's own check keeps such a message from the call."""
    from licence_reminder.gateways.base import Outcome, SmsMessage

    _, _, sim, _ = setup
    _, gw = gateway(setup, "aliyun")
    approve(setup, "aliyun", NUMBERED)
    long = gw.send(
        SmsMessage(
            "m1",
            "13800000001",
            "testdept.spjy.stage2",
            {
                "contact": "张三",
                "holder": "字" * 36,
                "licence_no": "0001",
                "expiry": "2026年12月24日",
            },
        )
    )
    assert (long.outcome, long.code) == (Outcome.PERMANENT, "isv.PARAM_LENGTH_LIMIT")
    unknown = gw.send(SmsMessage("m2", "13800000001", "testdept.other.stage1", {"contact": "张三"}))
    assert (unknown.outcome, unknown.code) == (Outcome.REFUSED, "isv.SMS_TEMPLATE_ILLEGAL")
    assert sim.messages() == []


@pytest.mark.mariadb
def test_a_template_the_connection_has_no_code_for_is_held_not_sent(setup) -> None:  # type: ignore[no-untyped-def]
    ledger, _, sim, _ = setup
    cfg, gw = gateway(
        setup, "aliyun", templates={"sms_stage1": "SMS_OLD", "sms_stage2": "SMS_OLD2"}
    )
    out = prepare(setup, cfg, "S0001", catalogue=NUMBERED)
    assert out.get("reminders_held") == 1 and "testdept.spjy.stage1" in out["held"]["testdept"]
    assert {r.status for r in q(ledger, "SELECT status FROM reminder")} == {
        "planned"
    }  # the next run sends it
    assert send(ledger, gw) == {} and sim.messages() == []


@pytest.mark.mariadb
@pytest.mark.parametrize(
    ("provider", "recovered", "in_doubt"),
    [
        ("aliyun", "recovered_pending", 0),  # QuerySendDetails: no record proves it never arrived
        ("generic", "recovered_pending", 0),  # so does a status API's "no such message" (4040)
        ("tencent", "in_doubt_call_list", 1),  # no receipt proves nothing: a person decides
    ],
)
def test_crash_between_call_and_record_does_not_send_twice(
    setup, provider: str, recovered: str, in_doubt: int
) -> None:  # type: ignore[no-untyped-def]
    ledger, _, sim, _ = setup
    cfg, gw = gateway(setup, provider)
    prepare(setup, cfg, "H0001", "H0002", "H0003")
    with pytest.raises(SimulatedCrash):
        send(ledger, CrashAfterCalls(gw, 2))
    assert len(sim.messages()) == 2
    statuses = sorted(r.status for r in q(ledger, "SELECT status FROM outbox_message"))
    assert statuses == ["sending", "sending", "sending"]  # claimed, outcome never recorded
    out = send(ledger, gw)  # the retry of the task: recovery asks the provider first
    assert out.get("recovered_sent") == 2 and out.get(recovered) == 1
    assert out.get("sent", 0) == 1 - in_doubt
    assert len(sim.messages()) == 3 - in_doubt
    ids = {r.id: r.status for r in q(ledger, "SELECT id, status FROM outbox_message")}
    assert {m["out_id"] for m in sim.messages()} == {i for i, s in ids.items() if s == "sent"}
    assert sorted(r.status for r in q(ledger, "SELECT status FROM reminder")) == (
        ["call_list"] * in_doubt + ["sent"] * (3 - in_doubt)
    )
    recorded = q(
        ledger, "SELECT provider_message_id, sent_at FROM outbox_message WHERE status = 'sent'"
    )
    assert sorted(r.provider_message_id for r in recorded) == sorted(
        m["provider_id"] for m in sim.messages()
    )
    assert all(r.sent_at is not None for r in recorded)
    send(ledger, gw)
    assert len(sim.messages()) == 3 - in_doubt


PERMANENT_CODES = {
    ("aliyun", "invalid_number"): "isv.MOBILE_NUMBER_ILLEGAL",
    ("aliyun", "opted_out"): "isv.BLACK_KEY_CONTROL_LIMIT",
    ("tencent", "invalid_number"): "InvalidParameterValue.IncorrectPhoneNumber",
    ("tencent", "opted_out"): "FailedOperation.PhoneNumberInBlacklist",
    ("generic", "invalid_number"): "4001",
    ("generic", "opted_out"): "4002",
}


@pytest.mark.mariadb
@pytest.mark.parametrize(("provider", "fault"), PERMANENT_CODES)
def test_permanent_error_not_retried_lands_on_call_list(setup, provider: str, fault: str) -> None:  # type: ignore[no-untyped-def]
    ledger, _, sim, _ = setup
    cfg, gw = gateway(setup, provider)
    prepare(setup, cfg, "J0001")
    sim.set_faults([{"fault": fault}])
    out = send(ledger, gw, wait=2)
    assert out == {"call_list": 1}
    (m,) = q(ledger, "SELECT status, attempts, last_code FROM outbox_message")
    assert (m.status, m.attempts, m.last_code) == ("call_list", 1, PERMANENT_CODES[provider, fault])
    assert q(ledger, "SELECT status FROM reminder")[0].status == "call_list"
    assert len(q(ledger, "SELECT * FROM delivery_attempt")) == 1
    assert sim.messages() == []


@pytest.mark.mariadb
@pytest.mark.parametrize("provider", PROVIDERS)
def test_transient_error_retried_and_delivered(setup, provider: str) -> None:  # type: ignore[no-untyped-def]
    ledger, _, sim, _ = setup
    cfg, gw = gateway(setup, provider)
    prepare(setup, cfg, "K0001")
    sim.set_faults([{"fault": "http_500", "times": 1}])
    out = send(ledger, gw, wait=10)
    assert out.get("sent") == 1 and out.get("retry_scheduled") == 1
    assert [o for _, o in attempts(ledger)] == ["transient", "accepted"]
    assert len(sim.messages()) == 1


@pytest.mark.mariadb
@pytest.mark.parametrize(
    ("provider", "fault"),
    [
        ("aliyun", "timeout"),
        ("tencent", "timeout"),
        ("tencent", "drop_after_accept"),
        ("generic", "timeout"),  # found through the platform's status API
    ],
)
def test_timeout_after_send_is_looked_up_not_resent(setup, provider: str, fault: str) -> None:  # type: ignore[no-untyped-def]
    ledger, _, sim, _ = setup
    cfg, gw = gateway(setup, provider)
    prepare(setup, cfg, "L0001")
    sim.set_faults([{"fault": fault, "times": 1}], timeout_seconds=2.5)
    out = send(ledger, gw)
    assert out.get("recovered_sent") == 1
    assert len(sim.messages()) == 1
    assert attempts(ledger) == [("send", "transient"), ("lookup", "recovered")]
    (m,) = q(ledger, "SELECT status, provider_message_id FROM outbox_message")
    assert (m.status, m.provider_message_id) == ("sent", sim.messages()[0]["provider_id"])


@pytest.mark.mariadb
@pytest.mark.parametrize("provider", ["aliyun", "tencent"])
def test_a_failed_status_query_is_not_taken_for_no_record(setup, provider: str) -> None:  # type: ignore[no-untyped-def]
    ledger, _, sim, _ = setup
    cfg, gw = gateway(setup, provider)
    prepare(setup, cfg, "Q0001")
    sim.set_faults(
        [{"fault": "timeout", "times": 1}, {"on": "query", "fault": "throttled", "times": 1}],
        timeout_seconds=2.5,
    )
    assert send(ledger, gw) == {"lookup_failed": 1}
    (m,) = q(ledger, "SELECT status FROM outbox_message")
    assert m.status == "unknown" and len(sim.messages()) == 1  # still in doubt, not sent again
    assert send(ledger, gw) == {"recovered_sent": 1}  # the next run asks again and settles it
    assert len(sim.messages()) == 1
    assert attempts(ledger) == [("send", "transient"), ("lookup", "recovered")]


@pytest.mark.mariadb
@pytest.mark.parametrize(
    ("provider", "drop", "code"),
    [
        ("tencent", (), "NO_RECEIPT"),  # accepted, but the carrier has not reported yet
        ("generic", ("status",), "NO_STATUS_API"),  # nothing to ask
    ],
)
def test_in_doubt_without_proof_goes_to_manual_review(
    setup, provider: str, drop: tuple[str, ...], code: str
) -> None:  # type: ignore[no-untyped-def]
    ledger, _, sim, _ = setup
    cfg, gw = gateway(setup, provider, drop=drop)
    prepare(setup, cfg, "M0001")
    sim.set_faults(
        [{"fault": "timeout", "times": 1}], timeout_seconds=2.5, receipt_delay_seconds=3600
    )
    out = send(ledger, gw)
    assert out == {"in_doubt_call_list": 1}
    assert attempts(ledger) == [("send", "transient"), ("lookup", "undetermined")]
    (m,) = q(ledger, "SELECT status, last_code FROM outbox_message")
    assert (m.status, m.last_code) == ("call_list", code)
    (r,) = q(ledger, "SELECT status, status_reason FROM reminder")
    assert r.status == "call_list" and "in doubt" in r.status_reason
    send(ledger, gw)
    assert len(sim.messages()) == 1  # accepted once, never sent again


@pytest.mark.mariadb
@pytest.mark.parametrize(
    ("provider", "override", "code"),
    [
        ("aliyun", {"password": "not-the-secret"}, "SignatureDoesNotMatch"),
        ("tencent", {"password": "not-the-secret"}, "AuthFailure.SignatureFailure"),
        ("tencent", {"login": "AKIDunknown"}, "AuthFailure.SecretIdNotFound"),
        ("tencent", {"clock": -600}, "AuthFailure.SignatureExpire"),
        ("generic", {"password": "not-the-secret"}, "4012"),
    ],
)
def test_bad_credentials_stop_the_sender_and_put_nobody_on_the_call_list(
    setup, provider: str, override: dict[str, Any], code: str
) -> None:  # type: ignore[no-untyped-def]
    """The provider refuses the account, not a message: the task fails naming the connection, the
    refused message and the untried rest stay pending, and a fixed connection sends them all."""
    from licence_reminder.errors import PermanentError

    ledger, _, sim, _ = setup
    override = dict(override)  # the parameter is shared by every database the test runs on
    skew = override.pop("clock", 0)
    cfg, gw = gateway(setup, provider, **override)
    if skew:
        gw.clock = lambda: time.time() + skew  # type: ignore[attr-defined]
    prepare(setup, cfg, "N0001", "N0002", "N0003")
    with pytest.raises(
        PermanentError, match=rf"gateway connection 'sms_{provider}' refused the account \({code}"
    ):
        send(ledger, gw, wait=2)
    rows = q(
        ledger, "SELECT status, attempts, last_code FROM outbox_message ORDER BY attempts DESC"
    )
    assert [(m.status, m.attempts, m.last_code) for m in rows] == [
        ("pending", 1, code),
        ("pending", 0, None),
        ("pending", 0, None),
    ]
    assert {r.status for r in q(ledger, "SELECT status FROM reminder")} == {"queued"}
    assert attempts(ledger) == [("send", "refused")]
    assert sim.messages() == []

    _, fixed = gateway(setup, provider)
    assert send(ledger, fixed, wait=2) == {"sent": 3}


@pytest.mark.mariadb
def test_a_message_the_gateway_refused_all_day_is_written_again_with_the_next_days_text(
    setup,
) -> None:  # type: ignore[no-untyped-def]
    ledger, _, sim, _ = setup
    cfg, gw = gateway(setup, "aliyun")
    prepare(setup, cfg, "K0002")
    sim.set_faults([{"fault": "http_500"}])
    assert send(ledger, gw).get("retry_scheduled") == 1
    assert dispatch.tried_unsent(ledger, 0) == 1  # the send task fails on this, and retries
    sim.set_faults([])

    tomorrow = TODAY + dt.timedelta(days=1)
    with ledger.begin() as conn:  # as if written yesterday
        conn.execute(
            sa.text("UPDATE outbox_message SET created_at = :t"),
            {"t": dt.datetime.combine(TODAY, dt.time(9))},
        )
    profile = dispatch.GatewayProfile.of(cfg)
    out = dispatch.render_outbox(ledger, today=tomorrow, run_id="d2", profile_for=lambda _: profile)
    assert out.get("superseded") == 1 and out.get("messages") == 1
    assert send(ledger, gw) == {"sent": 1}
    (message,) = sim.messages()
    assert message["params"]["days"] == "29"  # not yesterday's 30
    assert sorted(r.status for r in q(ledger, "SELECT status FROM outbox_message")) == [
        "sent",
        "superseded",
    ]


@pytest.mark.mariadb
def test_failed_outcome_write_stops_sender_and_is_recovered_by_lookup(setup, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    # outcomes are written on a second thread while the next batch goes out: a write that fails
    # must stop the sender, and the next run must look its messages up, not send them again
    ledger, _, sim, _ = setup
    cfg, gw = gateway(setup, "aliyun")
    prepare(setup, cfg, "M0001", "M0002", "M0003", "M0004", "M0005")
    monkeypatch.setattr(dispatch, "BOOKKEEPING_BATCH", 2)
    real_flush, failed = dispatch._Book.flush, []

    def flush_failing_once(book: dispatch._Book, engine) -> None:  # type: ignore[no-untyped-def]
        if book.outbox and not failed:
            failed.append(True)
            raise RuntimeError("ledger write failed")
        real_flush(book, engine)

    monkeypatch.setattr(dispatch._Book, "flush", flush_failing_once)
    with pytest.raises(RuntimeError, match="ledger write failed"):
        send(ledger, gw)
    assert len(sim.messages()) == 4  # the batch whose write failed and the one in flight
    assert (
        sorted(r.status for r in q(ledger, "SELECT status FROM outbox_message"))
        == ["pending"] + ["sending"] * 4
    )
    out = send(ledger, gw)
    assert out.get("recovered_sent") == 4 and out.get("sent") == 1
    assert sorted(m["out_id"] for m in sim.messages()) == sorted(
        r.id for r in q(ledger, "SELECT id FROM outbox_message")
    )
