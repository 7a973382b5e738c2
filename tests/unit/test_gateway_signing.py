"""Alibaba Cloud RPC signature (V2) against the example Alibaba publishes, and error mapping."""

from __future__ import annotations

import pytest

from licence_reminder.gateways.aliyun import AliyunSms, classify, percent_encode, sign
from licence_reminder.gateways.base import Outcome


def test_signature_matches_alibaba_published_example() -> None:
    # The worked example of Alibaba Cloud's RPC signature documentation (ECS DescribeRegions,
    # AccessKeyId "testid", secret "testsecret", GET): Signature "OLeaidS1JvxuMvnyHOwuJ+uX5qY=".
    params = {
        "AccessKeyId": "testid", "Action": "DescribeRegions", "Format": "XML",
        "SignatureMethod": "HMAC-SHA1", "SignatureNonce": "3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf",
        "SignatureVersion": "1.0", "Timestamp": "2016-02-23T12:46:24Z", "Version": "2014-05-26",
    }
    assert sign(params, "testsecret", "GET") == "OLeaidS1JvxuMvnyHOwuJ+uX5qY="


@pytest.mark.parametrize(("raw", "encoded"), [(" ", "%20"), ("*", "%2A"), ("~", "~"), ("/", "%2F"),
                                             ("安", "%E5%AE%89")])
def test_percent_encoding_rfc3986(raw: str, encoded: str) -> None:
    assert percent_encode(raw) == encoded


@pytest.mark.parametrize(("code", "outcome"), [
    ("OK", Outcome.ACCEPTED),
    ("isv.MOBILE_NUMBER_ILLEGAL", Outcome.PERMANENT),
    ("isv.TEMPLATE_MISSING_PARAMETERS", Outcome.PERMANENT),
    ("isv.BUSINESS_LIMIT_CONTROL", Outcome.RATE_LIMITED),
    ("Throttling.User", Outcome.RATE_LIMITED),
    ("isp.SYSTEM_ERROR", Outcome.TRANSIENT),
])
def test_error_codes(code: str, outcome: Outcome) -> None:
    assert classify(code) == outcome


def test_secret_not_in_repr() -> None:
    gw = AliyunSms(endpoint="http://127.0.0.1:1/", access_key_id="id", access_key_secret="s3cr3t",
                   sign_name="x")
    assert "s3cr3t" not in repr(gw)


def test_signature_equals_the_plain_definition_on_awkward_values() -> None:
    # sign() re-encodes the canonical query by replacement; the definition quotes it again whole
    import base64
    import hashlib
    import hmac

    params = {"TemplateParam": '{"name":"张三 & 李四","url":"https://a.example/x?y=1&z=~*"}',
              "SignName": "安阳市政务服务", "Timestamp": "2026-11-25T02:00:00Z", "OutId": "a+b/c=d%e",
              "Action": "SendSms"}
    canonical = "&".join(f"{percent_encode(k)}={percent_encode(v)}" for k, v in sorted(params.items()))
    to_sign = f"POST&%2F&{percent_encode(canonical)}"
    expected = base64.b64encode(hmac.new(b"secret&", to_sign.encode(), hashlib.sha1).digest()).decode()
    assert sign(params, "secret") == expected


def test_environment_proxy_read_once_at_construction(monkeypatch: pytest.MonkeyPatch) -> None:
    # requests no longer reads the environment per call (trust_env off): the adapter must have
    # taken the proxy settings over itself
    for name in ("http_proxy", "NO_PROXY", "no_proxy"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HTTP_PROXY", "http://proxy.example:3128")
    gw = AliyunSms(endpoint="http://sms.example/", access_key_id="id", access_key_secret="s", sign_name="x")
    assert gw._session.proxies.get("http") == "http://proxy.example:3128"
    assert gw._session.trust_env is False
