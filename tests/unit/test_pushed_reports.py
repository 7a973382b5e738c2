"""Pushed delivery reports without a database: each provider's format, the receiver's
configuration, allow-list, token and signature."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from licence_reminder.errors import PermanentError
from licence_reminder.gateways.generic import hmac_signature
from licence_reminder.pushed import NotAllowed, Receiver, ReportInvalid, parse_aliyun, parse_tencent

SECRET = "receiver-secret-0123456789"


def receiver(provider: str = "aliyun", login: str = "", **extra) -> Receiver:  # type: ignore[no-untyped-def]
    extra.setdefault("allow", ["203.0.113.0/24"])
    return Receiver.from_connection(
        "test",
        SimpleNamespace(login=login, password=SECRET, extra_dejson={"provider": provider, **extra}),
    )


def test_alibaba_reports_name_the_message_by_our_id_and_keep_only_a_masked_mobile() -> None:
    (r,) = parse_aliyun(
        [
            {
                "phone_number": "13812345678",
                "success": False,
                "err_code": "MOBILE_NOT_ON_SERVICE",
                "biz_id": "900^1",
                "out_id": "a" * 32,
                "report_time": "2026-11-24 09:00:07",
            }
        ]
    )
    assert (r.message_key, r.delivered, r.code, r.recipient_masked) == (
        "a" * 32,
        False,
        "MOBILE_NOT_ON_SERVICE",
        "138****5678",
    )


def test_tencent_reports_fall_back_to_the_sid() -> None:
    (r,) = parse_tencent(
        [{"mobile": "13812345678", "report_status": "SUCCESS", "errmsg": "DELIVRD", "sid": "3:x"}]
    )
    assert (r.message_key, r.delivered, r.code) == ("sid:3:x", True, "SUCCESS")


@pytest.mark.parametrize(
    ("parse", "doc", "says"),
    [
        (parse_aliyun, {"out_id": "x"}, "JSON array"),
        (parse_aliyun, [{"out_id": "x", "success": "maybe"}], "report 0: field 'success'"),
        (parse_aliyun, [{"success": True}], "neither 'out_id' nor 'biz_id'"),
        (
            parse_tencent,
            [{"sid": "1", "report_status": "SUCCESS"}, {"sid": "2", "report_status": "OK"}],
            "report 1: field 'report_status'",
        ),
    ],
)
def test_a_body_not_in_the_format_says_which_report_and_field(parse, doc, says) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ReportInvalid, match=says):
        parse(doc)


@pytest.mark.parametrize(
    ("extra", "field"),
    [
        ({"allow": []}, "extra.allow"),
        ({"allow": ["not-a-network"]}, "extra.allow"),
        ({"provider": "smtp"}, "extra.provider"),
    ],
)
def test_a_receiver_that_cannot_work_names_the_field(extra, field) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(PermanentError, match=field):
        receiver(**extra)


def test_the_token_and_the_allow_list_are_both_required() -> None:
    r = receiver()
    r.authenticate(peer="203.0.113.9", forwarded_for=None, token=SECRET, headers={}, body=b"[]")
    with pytest.raises(NotAllowed, match="token"):
        r.authenticate(
            peer="203.0.113.9", forwarded_for=None, token="x" * 26, headers={}, body=b"[]"
        )
    with pytest.raises(NotAllowed, match="address"):
        r.authenticate(
            peer="198.51.100.1", forwarded_for=None, token=SECRET, headers={}, body=b"[]"
        )


def test_forwarded_for_counts_only_from_a_trusted_proxy() -> None:
    r = receiver(trusted_proxies=["10.0.0.1"])
    r.authenticate(
        peer="10.0.0.1", forwarded_for="1.2.3.4, 203.0.113.9", token=SECRET, headers={}, body=b"[]"
    )
    with pytest.raises(NotAllowed):  # anyone else can write the header
        r.authenticate(
            peer="198.51.100.1", forwarded_for="203.0.113.9", token=SECRET, headers={}, body=b"[]"
        )


def test_a_signed_callback_must_be_fresh_and_intact() -> None:
    r = receiver("generic", login="app-1", signing={})
    body, now = b'{"reports": []}', 1_800_000_000.0
    ts = str(int(now * 1000))
    headers = {
        "X-App-Id": "app-1",
        "X-Timestamp": ts,
        "X-Nonce": "n1",
        "X-Signature": hmac_signature(SECRET, "app-1", ts, "n1", body),
    }
    r.authenticate(
        peer="203.0.113.9",
        forwarded_for=None,
        token=None,
        headers=headers,
        body=body,
        clock=lambda: now,
    )
    with pytest.raises(NotAllowed, match="signature"):
        r.authenticate(
            peer="203.0.113.9",
            forwarded_for=None,
            token=None,
            headers=headers,
            body=body + b" ",
            clock=lambda: now,
        )
    with pytest.raises(NotAllowed, match="seconds off"):
        r.authenticate(
            peer="203.0.113.9",
            forwarded_for=None,
            token=None,
            headers=headers,
            body=body,
            clock=lambda: now + 301,
        )
