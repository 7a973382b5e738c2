"""The mini-program adapter against the simulator's WeChat protocol on loopback: the access token
cached until it expires and refreshed once on 40001/42001, a one-time consent used up, each
permanent error code ending the message (not the channel), account errors refusing the account."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from licence_reminder.channels.wechat import WeChatConfig, WeChatSubscribe
from licence_reminder.gateways.base import Outcome, SmsMessage
from licence_reminder.simulator.server import start_in_thread
from licence_reminder.simulator.wechat import DEMO_TEMPLATE, DEMO_TEMPLATE_ID

OPENID = "oHolder0000000000000000000001"[:28]
DATA = {
    "thing1": "食品经营许可证",
    "date2": "2026年12月24日",
    "thing3": "请于2026年12月10日前申请延续",
    "phrase4": "首次提醒",
}


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def sim():  # type: ignore[no-untyped-def]
    with start_in_thread() as s:
        s.wechat.templates[DEMO_TEMPLATE_ID] = list(DEMO_TEMPLATE["data"])
        yield s


def adapter(sim, clock=None, **override):  # type: ignore[no-untyped-def]
    c = sim.wechat_connection()
    conn = SimpleNamespace(
        conn_id="wechat_miniprogram",
        login=override.get("login", c["login"]),
        password=override.get("password", c["password"]),
        extra_dejson=c["extra"],
    )
    return WeChatSubscribe(
        WeChatConfig.from_connection(conn), **({"clock": clock} if clock else {})
    )


def message(openid: str = OPENID, **data: str) -> SmsMessage:
    return SmsMessage("m" * 32, openid, DEMO_TEMPLATE_ID, {**DATA, **data})


def test_the_token_is_kept_until_it_expires_then_fetched_again(sim) -> None:  # type: ignore[no-untyped-def]
    clock = Clock()
    gw = adapter(sim, clock)
    sim.wechat.subscribe(OPENID, DEMO_TEMPLATE_ID, count=3)
    assert gw.send(message()).outcome == Outcome.ACCEPTED
    clock.now += 7200 - 301  # not yet within the margin before expiry
    assert gw.send(message()).outcome == Outcome.ACCEPTED
    assert (gw.tokens_fetched, sim.wechat.tokens_issued) == (1, 1)
    clock.now += 2  # within 300 s of expiry: fetched again before WeChat would refuse it
    assert gw.send(message()).outcome == Outcome.ACCEPTED
    assert (gw.tokens_fetched, sim.wechat.tokens_issued) == (2, 2)


@pytest.mark.parametrize(
    "stale",
    [
        pytest.param("expire_tokens", id="42001-expired"),
        pytest.param("stale_token", id="40001-another-client-fetched-a-newer-one"),
    ],
)
def test_a_token_wechat_no_longer_takes_is_refreshed_once_and_the_message_sent(sim, stale) -> None:  # type: ignore[no-untyped-def]
    gw = adapter(sim)
    sim.wechat.subscribe(OPENID, DEMO_TEMPLATE_ID, count=2)
    assert gw.send(message()).outcome == Outcome.ACCEPTED
    if stale == "expire_tokens":
        sim.wechat.expire_tokens()
    else:
        sim.wechat.configure({"rules": [{"fault": "stale_token", "times": 1}]})
    result = gw.send(message())
    assert result.outcome == Outcome.ACCEPTED
    assert gw.tokens_fetched == 2
    assert len(sim.wechat.messages) == 2  # the refused attempt sent nothing


def test_a_token_refused_again_after_a_refresh_is_not_refreshed_in_a_loop(sim) -> None:  # type: ignore[no-untyped-def]
    gw = adapter(sim)
    sim.wechat.subscribe(OPENID, DEMO_TEMPLATE_ID)
    sim.wechat.configure({"rules": [{"fault": "stale_token"}]})  # every send: 40001
    result = gw.send(message())
    assert (result.outcome, result.code) == (Outcome.TRANSIENT, "40001")
    assert gw.tokens_fetched == 2 and sim.wechat.messages == []


def test_a_one_time_consent_is_used_up_by_one_message(sim) -> None:  # type: ignore[no-untyped-def]
    gw = adapter(sim)
    sim.wechat.subscribe(OPENID, DEMO_TEMPLATE_ID)  # one "allow": one message
    first, second = gw.send(message()), gw.send(message())
    assert first.outcome == Outcome.ACCEPTED and first.provider_message_id
    assert (second.outcome, second.code) == (Outcome.PERMANENT, "43101")
    sim.wechat.subscribe(OPENID, DEMO_TEMPLATE_ID, kind="long_term")
    assert [gw.send(message()).outcome for _ in range(3)] == [Outcome.ACCEPTED] * 3


@pytest.mark.parametrize(
    ("case", "code"),
    [
        pytest.param("not_subscribed", "43101", id="43101"),
        pytest.param("bad_data", "47003", id="47003"),
        pytest.param("bad_openid", "40003", id="40003"),
    ],
)
def test_each_permanent_code_ends_the_message_not_the_channel(sim, case, code) -> None:  # type: ignore[no-untyped-def]
    gw = adapter(sim)
    other = "oOtherHolder0000000000000002"[:28]
    sim.wechat.subscribe(other, DEMO_TEMPLATE_ID)
    if case != "not_subscribed":
        sim.wechat.subscribe(OPENID, DEMO_TEMPLATE_ID)
    bad = {
        "bad_data": message(phrase4="first"),
        "bad_openid": message("not-an-openid-at-all-0000"),
        "not_subscribed": message(),
    }[case]
    result = gw.send(bad)
    assert (result.outcome, result.code) == (Outcome.PERMANENT, code)
    assert OPENID not in result.message and "not-an-openid" not in result.message
    # the channel goes on: the next holder's message is sent by the same adapter
    assert gw.send(message(other)).outcome == Outcome.ACCEPTED


def test_data_outside_wechat_rules_is_refused_before_any_call_naming_the_field() -> None:
    from licence_reminder.channels.wechat import TemplateDataRejected, check_data

    with pytest.raises(TemplateDataRejected) as refused:
        check_data(
            "testdept.e1.stage1",
            {**DATA, "thing3": "请" * 21, "phrase4": "First", "date2": "12/24"},
        )
    text = str(refused.value)
    assert "'thing3' (thing): 21 characters, WeChat takes at most 20 characters" in text
    assert "'phrase4' (phrase): not at most 5 Chinese characters" in text
    assert "'date2' (date)" in text and "请请请" not in text


@pytest.mark.parametrize(
    ("override", "fault", "outcome", "code"),
    [
        pytest.param({"password": "wrong"}, None, Outcome.REFUSED, "40125", id="wrong-secret"),
        pytest.param(
            {"login": "wxwrongappid00001"}, None, Outcome.REFUSED, "40013", id="wrong-appid"
        ),
        pytest.param({}, "system_busy", Outcome.TRANSIENT, "-1", id="system-busy"),
        pytest.param({}, "http_500", Outcome.TRANSIENT, "HTTP_500", id="http-500"),
    ],
)
def test_account_and_passing_errors(sim, override, fault, outcome, code) -> None:  # type: ignore[no-untyped-def]
    gw = adapter(sim, **override)
    sim.wechat.subscribe(OPENID, DEMO_TEMPLATE_ID)
    if fault:
        sim.wechat.configure({"rules": [{"fault": fault}]})
    result = gw.send(message())
    assert (result.outcome, result.code) == (outcome, code)


def test_an_unknown_template_refuses_the_account(sim) -> None:  # type: ignore[no-untyped-def]
    gw = adapter(sim)
    result = gw.send(SmsMessage("m" * 32, OPENID, "unknownTemplate000000000", DATA))
    assert (result.outcome, result.code) == (Outcome.REFUSED, "40037")


def test_a_lost_reply_is_in_doubt_and_wechat_cannot_settle_it(sim) -> None:  # type: ignore[no-untyped-def]
    import datetime as dt

    gw = adapter(sim)
    gw.timeout = 0.5
    sim.wechat.subscribe(OPENID, DEMO_TEMPLATE_ID)
    sim.wechat.configure({"rules": [{"fault": "timeout"}], "timeout_seconds": 1.5})
    result = gw.send(message())
    assert result.ambiguous and len(sim.wechat.messages) == 1
    assert gw.lookup(message(), dt.date.today()).conclusive is False
