"""The robot connection and request shapes, and the dispatch runs the deadline checks."""

from __future__ import annotations

import datetime as dt
import urllib.parse
from types import SimpleNamespace

import pytest
from licence_reminder.config import scheduled_starts
from licence_reminder.errors import PermanentError
from licence_reminder.notifiers import RobotConfig, dingtalk_sign


def conn(**kw):  # type: ignore[no-untyped-def]
    base = {
        "conn_id": "lr_alert_robot",
        "host": "https://oapi.dingtalk.com/robot/send",
        "login": "tok",
        "password": "SECsecret",
        "schema": None,
        "port": None,
        "extra_dejson": {},
    }
    return SimpleNamespace(**{**base, **kw})


def test_a_dingtalk_call_carries_the_timestamp_and_its_signature() -> None:
    url, body = RobotConfig.from_connection(conn()).request(
        "标题", "正文", now_ms=1_700_000_000_000
    )
    query = urllib.parse.parse_qs(urllib.parse.urlparse(url).query)
    assert url.startswith("https://oapi.dingtalk.com/robot/send?")
    assert query == {
        "access_token": ["tok"],
        "timestamp": ["1700000000000"],
        "sign": [dingtalk_sign("SECsecret", 1_700_000_000_000)],
    }
    # DingTalk's documented recipe, step by step
    import base64
    import hashlib
    import hmac

    mac = hmac.new(b"SECsecret", b"1700000000000\nSECsecret", hashlib.sha256).digest()
    assert query["sign"] == [base64.b64encode(mac).decode()]
    assert body == {
        "msgtype": "markdown",
        "markdown": {"title": "标题", "text": "### 标题\n\n正文"},
    }


def test_a_wecom_robot_takes_its_key_in_the_url_and_no_signature() -> None:
    cfg = RobotConfig.from_connection(
        conn(
            host="qyapi.weixin.qq.com/cgi-bin/webhook/send",
            password=None,
            extra_dejson={"flavour": "wecom"},
        )
    )
    url, body = cfg.request("t", "x")
    assert url == "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=tok"
    assert body == {"msgtype": "markdown", "markdown": {"content": "**t**\n\nx"}}


def test_an_incomplete_robot_connection_says_what_is_missing() -> None:
    with pytest.raises(
        PermanentError,
        match=r"'lr_alert_robot': extra.flavour is 'slack'.*; host .* empty; "
        r"login .* empty",
    ):
        RobotConfig.from_connection(conn(host="", login=None, extra_dejson={"flavour": "slack"}))
    with pytest.raises(
        PermanentError, match=r"password \(the robot's signing secret, 加签\) is empty"
    ):
        RobotConfig.from_connection(conn(password=None))


UTC = dt.UTC


@pytest.mark.parametrize(
    ("schedule", "starts"),
    [
        ("0 9 * * *", [dt.datetime(2026, 11, 24, 1, 0, tzinfo=UTC)]),  # 09:00 Beijing time
        (
            "0 7,10 * * *",
            [
                dt.datetime(2026, 11, 23, 23, 0, tzinfo=UTC),
                dt.datetime(2026, 11, 24, 2, 0, tzinfo=UTC),
            ],
        ),
        ("30 21 * * *", []),  # after the deadline: that day's run is not late at noon
        ("@once", []),
    ],
)
def test_the_runs_due_before_the_deadline_are_the_schedules_times_that_day(
    schedule: str, starts: list[dt.datetime]
) -> None:
    assert scheduled_starts(schedule, dt.date(2026, 11, 24), dt.time(12), "Asia/Shanghai") == starts
