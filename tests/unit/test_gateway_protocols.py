"""Per provider: which reply codes are permanent, flow control or worth a retry; and how the
generic adapter maps a message onto a platform's JSON."""

from __future__ import annotations

import json

import pytest
from licence_reminder.gateways import tencent
from licence_reminder.gateways.base import Outcome, SmsMessage
from licence_reminder.gateways.common import TemplateVariablesMismatch, ordered_values
from licence_reminder.gateways.generic import GenericHttpSms, GenericSpec, get_path, hmac_signature

PARAMS = {"name": "张三", "licence": "食品经营许可证", "days": "30"}
MESSAGE = SmsMessage(message_id="m1", mobile="13800000000", template_code="T1", params=PARAMS)


@pytest.mark.parametrize(
    ("code", "outcome"),
    [
        ("Ok", Outcome.ACCEPTED),
        ("InvalidParameterValue.IncorrectPhoneNumber", Outcome.PERMANENT),
        ("FailedOperation.PhoneNumberInBlacklist", Outcome.PERMANENT),  # opted out
        ("FailedOperation.TemplateIncorrectOrUnapproved", Outcome.REFUSED),
        ("FailedOperation.TemplateParamSetNotMatchApprovedTemplate", Outcome.PERMANENT),
        ("FailedOperation.SignatureIncorrectOrUnapproved", Outcome.REFUSED),
        ("InvalidParameterValue.TemplateParameterLengthLimit", Outcome.PERMANENT),
        ("InvalidParameterValue.ProhibitedUseUrlInTemplateParameter", Outcome.PERMANENT),
        ("AuthFailure.SignatureFailure", Outcome.REFUSED),
        ("AuthFailure.SignatureExpire", Outcome.REFUSED),
        ("AuthFailure.SecretIdNotFound", Outcome.REFUSED),
        ("UnauthorizedOperation.SmsSdkAppIdVerifyFail", Outcome.REFUSED),
        ("LimitExceeded.PhoneNumberDailyLimit", Outcome.RATE_LIMITED),
        ("LimitExceeded.PhoneNumberThirtySecondLimit", Outcome.RATE_LIMITED),
        ("LimitExceeded.DeliveryFrequencyLimit", Outcome.RATE_LIMITED),
        ("RequestLimitExceeded", Outcome.RATE_LIMITED),
        (
            "LimitExceeded.PhoneNumberCountLimit",
            Outcome.PERMANENT,
        ),  # our request is wrong, not busy
        ("InternalError.Timeout", Outcome.TRANSIENT),
        ("InternalError.OtherError", Outcome.TRANSIENT),
        ("FailedOperation.InsufficientBalanceInSmsPackage", Outcome.TRANSIENT),
    ],
)
def test_tencent_codes(code: str, outcome: Outcome) -> None:
    assert tencent.classify(code) == outcome


@pytest.mark.parametrize(
    ("mobile", "e164"),
    [
        ("13800000000", "+8613800000000"),
        ("8613800000000", "+8613800000000"),
        ("+8613800000000", "+8613800000000"),
    ],
)
def test_tencent_numbers_are_e164(mobile: str, e164: str) -> None:
    assert tencent.e164(mobile) == e164


SPEC = GenericSpec.from_extra(
    "gov",
    {"permanent_codes": ["4001", 4002], "rate_limited_codes": ["4290"]},
    "http://127.0.0.1:1/send",
)


@pytest.mark.parametrize(
    ("code", "http_status", "outcome"),
    [
        ("4001", 200, Outcome.PERMANENT),
        ("4002", 200, Outcome.PERMANENT),  # configured as a JSON number, compared as text
        ("4290", 200, Outcome.RATE_LIMITED),
        ("", 429, Outcome.RATE_LIMITED),
        ("", 401, Outcome.REFUSED),  # the account, not the message
        ("4012", 403, Outcome.REFUSED),
        ("9999", 400, Outcome.PERMANENT),
        ("9999", 200, Outcome.TRANSIENT),
        ("HTTP_502", 502, Outcome.TRANSIENT),
    ],
)
def test_generic_codes(code: str, http_status: int, outcome: Outcome) -> None:
    assert SPEC.classify(code, http_status) == outcome


def test_generic_success_rule_compares_as_text() -> None:
    spec = GenericSpec.from_extra(
        "gov", {"success": {"path": "result.ok", "equals": [True]}}, "http://x/"
    )
    assert spec.succeeded(200, {"result": {"ok": True}})
    assert not spec.succeeded(200, {"result": {"ok": False}})
    assert not spec.succeeded(500, {"result": {"ok": True}})


def test_variables_follow_the_declared_order_or_their_own() -> None:
    assert ordered_values(PARAMS, None) == ["张三", "食品经营许可证", "30"]
    assert ordered_values(PARAMS, ["days", "name", "licence"]) == ["30", "张三", "食品经营许可证"]


@pytest.mark.parametrize("order", [["name", "licence"], ["name", "licence", "days", "phone"]])
def test_variables_must_match_the_declared_order_exactly(order: list[str]) -> None:
    with pytest.raises(TemplateVariablesMismatch) as err:
        ordered_values(PARAMS, order)
    assert "张三" not in str(err.value)  # names only, never values


def test_mismatch_is_permanent_and_nothing_is_sent() -> None:
    # nothing listens on port 1: a call would come back as a connection error, not this
    gw = tencent.TencentSms(
        endpoint="http://127.0.0.1:1/",
        secret_id="id",
        secret_key="k",
        sdk_app_id="1400000000",
        sign_name="x",
        param_order={"T1": ["name"]},
    )
    result = gw.send(MESSAGE)
    assert (result.outcome, result.code) == (Outcome.PERMANENT, "TEMPLATE_VARIABLES_MISMATCH")


def test_generic_default_mapping() -> None:
    gw = GenericHttpSms(SPEC, sign_name="安阳市政务服务")
    assert gw.request_body(MESSAGE) == {
        "mobile": "13800000000",
        "templateCode": "T1",
        "params": PARAMS,
        "outId": "m1",
        "signName": "安阳市政务服务",
    }


def test_generic_dotted_paths_list_params_and_left_out_fields() -> None:
    spec = GenericSpec.from_extra(
        "gov",
        {
            "fields": {
                "mobile": "msg.phones",
                "template_code": "msg.tpl.id",
                "params": "msg.tpl.args",
                "out_id": "bizNo",
                "sign_name": None,
            },
            "params_as": "list",
        },
        "http://x/",
    )
    gw = GenericHttpSms(spec, sign_name="x", param_order={"T1": ["days", "name", "licence"]})
    assert gw.request_body(MESSAGE) == {
        "msg": {
            "phones": "13800000000",
            "tpl": {"id": "T1", "args": ["30", "张三", "食品经营许可证"]},
        },
        "bizNo": "m1",
    }


def test_generic_signed_headers() -> None:
    spec = GenericSpec.from_extra(
        "gov", {"headers": {"X-Channel": "licence"}, "signing": {}}, "http://x/"
    )
    gw = GenericHttpSms(
        spec, sign_name="x", app_id="app1", secret="s3cr3t", clock=lambda: 1700000000.5
    )
    body = json.dumps(gw.request_body(MESSAGE)).encode()
    h = gw.headers(body)
    assert (
        h["X-Channel"] == "licence"
        and h["X-App-Id"] == "app1"
        and h["X-Timestamp"] == "1700000000500"
    )
    assert h["X-Signature"] == hmac_signature("s3cr3t", "app1", "1700000000500", h["X-Nonce"], body)
    assert "s3cr3t" not in repr(gw)


def test_get_path_walks_objects_and_arrays() -> None:
    reply = {"data": {"list": [{"id": 7}]}}
    assert get_path(reply, "data.list.0.id") == 7
    assert get_path(reply, "data.list.1.id") is None
    assert get_path(reply, "data.missing") is None


def test_the_simulator_dates_messages_in_beijing_time_whatever_the_machine_zone() -> None:
    """Alibaba's SendDate is a Beijing date: 16:30 UTC on 25 November is the 26th there."""
    import calendar
    import time

    from licence_reminder.simulator.server import _beijing

    evening_utc = calendar.timegm((2026, 11, 25, 16, 30, 0, 0, 0, 0))
    assert time.strftime("%Y%m%d %H:%M", _beijing(evening_utc)) == "20261126 00:30"


@pytest.mark.parametrize(
    ("code", "outcome"),
    [
        ("OK", Outcome.ACCEPTED),
        ("isv.MOBILE_NUMBER_ILLEGAL", Outcome.PERMANENT),
        ("SignatureDoesNotMatch", Outcome.REFUSED),
        ("InvalidAccessKeyId.NotFound", Outcome.REFUSED),
        ("isv.SMS_TEMPLATE_ILLEGAL", Outcome.REFUSED),
        ("isv.BUSINESS_LIMIT_CONTROL", Outcome.RATE_LIMITED),
        ("isp.SYSTEM_ERROR", Outcome.TRANSIENT),
    ],
)
def test_aliyun_codes(code: str, outcome: Outcome) -> None:
    from licence_reminder.gateways import aliyun

    assert aliyun.classify(code) == outcome
