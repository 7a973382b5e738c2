"""Signatures against the examples the providers publish: Alibaba RPC (V2), Tencent TC3, and the
generic platform's HMAC; and Alibaba's error mapping."""

from __future__ import annotations

import base64
import hashlib
import hmac

import pytest
from licence_reminder.gateways import tencent
from licence_reminder.gateways.aliyun import AliyunSms, classify, percent_encode, sign
from licence_reminder.gateways.base import Outcome
from licence_reminder.gateways.generic import hmac_signature


def test_signature_matches_alibaba_published_example() -> None:
    # The worked example of Alibaba Cloud's RPC signature documentation (ECS DescribeRegions,
    # AccessKeyId "testid", secret "testsecret", GET): Signature "OLeaidS1JvxuMvnyHOwuJ+uX5qY=".
    params = {
        "AccessKeyId": "testid",
        "Action": "DescribeRegions",
        "Format": "XML",
        "SignatureMethod": "HMAC-SHA1",
        "SignatureNonce": "3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf",
        "SignatureVersion": "1.0",
        "Timestamp": "2016-02-23T12:46:24Z",
        "Version": "2014-05-26",
    }
    assert sign(params, "testsecret", "GET") == "OLeaidS1JvxuMvnyHOwuJ+uX5qY="


@pytest.mark.parametrize(
    ("raw", "encoded"), [(" ", "%20"), ("*", "%2A"), ("~", "~"), ("/", "%2F"), ("安", "%E5%AE%89")]
)
def test_percent_encoding_rfc3986(raw: str, encoded: str) -> None:
    assert percent_encode(raw) == encoded


@pytest.mark.parametrize(
    ("code", "outcome"),
    [
        ("OK", Outcome.ACCEPTED),
        ("isv.MOBILE_NUMBER_ILLEGAL", Outcome.PERMANENT),
        ("isv.TEMPLATE_MISSING_PARAMETERS", Outcome.PERMANENT),
        ("isv.BUSINESS_LIMIT_CONTROL", Outcome.RATE_LIMITED),
        ("Throttling.User", Outcome.RATE_LIMITED),
        ("isp.SYSTEM_ERROR", Outcome.TRANSIENT),
    ],
)
def test_error_codes(code: str, outcome: Outcome) -> None:
    assert classify(code) == outcome


def test_secret_not_in_repr() -> None:
    gw = AliyunSms(
        endpoint="http://127.0.0.1:1/",
        access_key_id="id",
        access_key_secret="s3cr3t",
        sign_name="x",
    )
    assert "s3cr3t" not in repr(gw)


# Tencent Cloud "签名方法 v3" (Signature v3): the CVM DescribeInstances example, POST, timestamp
# 1551113065, on the page each Tencent Cloud API's documentation carries, e.g. the SMS API's
# https://cloud.tencent.com/document/api/382/52072 (also https://cloud.tencent.com/document/api/362/4208).
# Two editions have been published. The older one (SecretId AKIDz8krbsJ5yKBZQpn74WFkmLPx3*******,
# SecretKey Gu5t9xGARNpq86cd98joQYCN3*******, the asterisks are part of the strings signed) signs
# content-type;host, as the adapter does. The current one masks the key entirely (32 asterisks) and
# also signs x-tc-action; it publishes the derived keys too. Both are reproduced byte for byte.
TC3_PAYLOAD = (
    b'{"Limit": 1, "Filters": [{"Values": ["\\u672a\\u547d\\u540d"], "Name": "instance-name"}]}'
)
TC3_HEADERS = {"Content-Type": "application/json; charset=utf-8", "Host": "cvm.tencentcloudapi.com"}
TC3_EDITIONS = {
    "older: content-type;host": (
        "AKIDz8krbsJ5yKBZQpn74WFkmLPx3*******",
        "Gu5t9xGARNpq86cd98joQYCN3*******",
        TC3_HEADERS,
        (
            "POST\n/\n\ncontent-type:application/json; charset=utf-8\nhost:cvm.tencentcloudapi.com\n\n"
            "content-type;host\n35e9c5b0e3ae67532d3c9f17ead6c90222632e5b1ff7f6e89887f1398934f064"
        ),
        "5ffe6a04c0664d6b969fab9a13bdab201d63ee709638e2749d62a09ca18d7031",
        "2230eefd229f582d8b1b891af7107b91597240707d778ab3738f756258d7652c",
    ),
    "current: content-type;host;x-tc-action": (
        "AKID" + "*" * 32,
        "*" * 32,
        {**TC3_HEADERS, "X-TC-Action": "DescribeInstances"},
        (
            "POST\n/\n\ncontent-type:application/json; charset=utf-8\nhost:cvm.tencentcloudapi.com\n"
            "x-tc-action:describeinstances\n\ncontent-type;host;x-tc-action\n"
            "35e9c5b0e3ae67532d3c9f17ead6c90222632e5b1ff7f6e89887f1398934f064"
        ),
        "7019a55be8395899b900fb5564e4200d984910f34794a27cb3fb7d10ff6a1e84",
        "10b1a37a7301a02ca19a647ad722d5e43b4b3cff309d421d85b46093f6ab6c4f",
    ),
}


@pytest.mark.parametrize("edition", TC3_EDITIONS)
def test_tc3_signature_reproduces_tencent_published_example(edition: str) -> None:
    secret_id, secret_key, headers, canonical, hashed, signature = TC3_EDITIONS[edition]
    assert tencent.canonical_request("POST", headers, TC3_PAYLOAD) == canonical
    assert tencent.string_to_sign(1551113065, "cvm", canonical) == (
        f"TC3-HMAC-SHA256\n1551113065\n2019-02-25/cvm/tc3_request\n{hashed}"
    )
    names = ";".join(sorted(h.lower() for h in headers))
    assert tencent.authorization(
        secret_id,
        secret_key,
        timestamp=1551113065,
        service="cvm",
        headers=headers,
        payload=TC3_PAYLOAD,
    ) == (
        f"TC3-HMAC-SHA256 Credential={secret_id}/2019-02-25/cvm/tc3_request, "
        f"SignedHeaders={names}, Signature={signature}"
    )


def test_tc3_derived_key_matches_published() -> None:
    # current edition: SecretDate da98fb70…, SecretService 8d70cbef…, SecretSigning b596b923…
    assert tencent.signing_key("*" * 32, "2019-02-25", "cvm").hex() == (
        "b596b923aad85185e2d1f6659d2a062e0a86731226e021e61bfe06f7ed05f5af"
    )


def test_tc3_date_is_utc() -> None:
    # 1551113065 is 2019-02-26 00:44:25 in Beijing: the scope must still say 2019-02-25
    assert tencent.credential_scope(1551113065, "sms") == "2019-02-25/sms/tc3_request"


def test_generic_hmac_over_app_id_timestamp_nonce_body() -> None:
    body = '{"mobile":"13800000000","params":{"name":"张三"}}'.encode()
    expected = hmac.new(b"secret", b"app1" + b"1700000000000" + b"n0nce" + body, hashlib.sha256)
    assert hmac_signature("secret", "app1", "1700000000000", "n0nce", body) == expected.hexdigest()
    assert hmac_signature("secret", "app1", "1700000000000", "n0nce", body, "base64") == (
        base64.b64encode(expected.digest()).decode()
    )


def test_tencent_secret_not_in_repr() -> None:
    gw = tencent.TencentSms(
        endpoint="http://127.0.0.1:1/",
        secret_id="id",
        secret_key="s3cr3t",
        sdk_app_id="1400000000",
        sign_name="x",
    )
    assert "s3cr3t" not in repr(gw)


def test_signature_equals_the_plain_definition_on_awkward_values() -> None:
    # sign() re-encodes the canonical query by replacement; the definition quotes it again whole
    import base64
    import hashlib
    import hmac

    params = {
        "TemplateParam": '{"name":"张三 & 李四","url":"https://a.example/x?y=1&z=~*"}',
        "SignName": "安阳市政务服务",
        "Timestamp": "2026-11-25T02:00:00Z",
        "OutId": "a+b/c=d%e",
        "Action": "SendSms",
    }
    canonical = "&".join(
        f"{percent_encode(k)}={percent_encode(v)}" for k, v in sorted(params.items())
    )
    to_sign = f"POST&%2F&{percent_encode(canonical)}"
    expected = base64.b64encode(
        hmac.new(b"secret&", to_sign.encode(), hashlib.sha1).digest()
    ).decode()
    assert sign(params, "secret") == expected


def test_environment_proxy_read_once_at_construction(monkeypatch: pytest.MonkeyPatch) -> None:
    # requests no longer reads the environment per call (trust_env off): the adapter must have
    # taken the proxy settings over itself
    for name in ("http_proxy", "NO_PROXY", "no_proxy"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HTTP_PROXY", "http://proxy.example:3128")
    gw = AliyunSms(
        endpoint="http://sms.example/", access_key_id="id", access_key_secret="s", sign_name="x"
    )
    assert gw._session.proxies.get("http") == "http://proxy.example:3128"
    assert gw._session.trust_env is False
