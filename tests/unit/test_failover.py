"""Routing rules of SMS failover: where each claimed message goes, given the connections' health."""

from __future__ import annotations

import datetime as dt
import json
from types import SimpleNamespace

from licence_reminder.dispatch import GatewayProfile
from licence_reminder.failover import FailoverSettings, Health, Route, Router
from licence_reminder.sms_templates import MAX_SMS_LENGTH

NOW = dt.datetime(2026, 11, 24, 9, 0)
A, B, C = "sms_a", "sms_b", "sms_c"


def profile(
    conn_id: str,
    *,
    templates: dict[str, str] | None = None,
    caps: dict[str, int] | None = None,
    sign: str = "安阳市政务服务",
) -> GatewayProfile:
    return GatewayProfile(
        conn_id=conn_id,
        provider="tencent",
        sign_name=sign,
        templates=templates or {},
        caps=caps or {},
    )


def row(**params: str) -> SimpleNamespace:
    return SimpleNamespace(
        gateway_conn_id=A,
        template_name="scjgj.spjy.stage1",
        body="您好，证照将到期。",
        params=json.dumps(params or {"holder": "某公司"}, ensure_ascii=False),
    )


def router(*profiles: GatewayProfile, **health: Health) -> Router:
    r = Router(FailoverSettings(order=(A, B, C)), {p.conn_id: p for p in profiles})
    r.health = {f"sms_{k}": h for k, h in health.items()}
    return r


COOLING = Health(
    cooldown_until=NOW + dt.timedelta(minutes=5),
    reason="5 transient failures in a row, the last HTTP_500",
)


def test_a_healthy_connection_keeps_its_messages() -> None:
    assert router(profile(B)).route(row(), NOW) is True
    assert (
        router(profile(B), a=Health(cooldown_until=NOW - dt.timedelta(seconds=1))).route(row(), NOW)
        is True
    )


def test_a_cooling_connection_is_stepped_over_for_the_first_that_can_take_the_message() -> None:
    got = router(
        profile(B, templates={"other": "1"}),
        profile(C, templates={"scjgj.spjy.stage1": "987"}),
        a=COOLING,
    ).route(row(), NOW)
    assert got == Route(
        C, "tencent", "987", f"{A} cooling down until 2026-11-24 09:05:00: {COOLING.reason}"
    )


def test_a_connection_whose_caps_or_signature_do_not_take_the_message_is_passed_over() -> None:
    short = profile(B, caps={"holder": 2})
    long_sign = profile(C, sign="字" * MAX_SMS_LENGTH)
    assert (
        router(short, long_sign, a=COOLING).route(row(holder="某公司"), NOW) is True
    )  # nowhere else: stays


def test_cooling_down_with_nowhere_else_to_go_stays_but_switched_off_waits() -> None:
    assert router(profile(B), a=COOLING, b=COOLING).route(row(), NOW) is True
    off = Health(switched_off=True, switched_by="cli:ops", switch_reason="maintenance")
    assert router(a=off).route(row(), NOW) is None
    got = router(profile(B), a=off).route(row(), NOW)
    assert isinstance(got, Route) and got.reason == f"{A} switched off by cli:ops: maintenance"


def test_a_threshold_of_failures_in_a_row_cools_a_connection_down_and_an_answer_resets_the_count() -> (
    None
):
    from licence_reminder.gateways.base import Outcome, SendResult

    class NoDatabase:  # the cool-down is shared through the database; here it is not reachable
        def begin(self) -> None:
            raise OSError("no database")

    r = Router(FailoverSettings(order=(A, B), threshold=3), {B: profile(B)})
    fail = SendResult(Outcome.TRANSIENT, "HTTP_502", "")
    assert [r.failed(NoDatabase(), A, fail, NOW) for _ in range(2)] == [False, False]  # type: ignore[arg-type]
    r.answered(A)
    assert [r.failed(NoDatabase(), A, fail, NOW) for _ in range(3)] == [False, False, True]  # type: ignore[arg-type]
    assert r.route(row(), NOW) == Route(
        B,
        "tencent",
        "scjgj.spjy.stage1",
        f"{A} cooling down until 2026-11-24 09:05:00: "
        "3 transient failures in a row, the last HTTP_502",
    )
