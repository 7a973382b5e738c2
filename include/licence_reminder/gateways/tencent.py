"""Tencent Cloud SMS (API 2021-01-11): SendSms and PullSmsSendStatusByPhoneNumber, TC3-HMAC-SHA256.

Signature v3: a canonical request (method, ``/``, query, ``name:value`` lines of the signed headers
in lower case, their names, SHA-256 of the body) is hashed into
``TC3-HMAC-SHA256\\n<timestamp>\\n<date>/<service>/tc3_request\\n<hash>``; the key is derived
``HMAC("TC3" + SecretKey, date)`` → service → ``"tc3_request"``, all in UTC.

Finding a message again: Tencent keeps no per-request record that can be queried by our id. The
pull API lists *receipts* (carrier reports) of one number, each echoing our ``SessionContext``,
and a receipt exists only once the carrier has reported — seconds to days after acceptance, or
never. So "not in the pull" does not prove Tencent never accepted the message: ``lookup`` then
answers inconclusively and dispatch puts the message on the call list instead of resending it.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any
from urllib.parse import urlsplit

import requests

from licence_reminder.errors import TransientError
from licence_reminder.gateways.base import (
    CONNECT_TIMEOUT,
    LookupResult,
    Outcome,
    SendResult,
    SmsGateway,
    SmsMessage,
)
from licence_reminder.gateways.common import (
    TemplateVariablesMismatch,
    json_reply,
    mismatch_result,
    ordered_values,
    transport_failure,
)

VERSION = "2021-01-11"
SERVICE = "sms"
ALGORITHM = "TC3-HMAC-SHA256"
CONTENT_TYPE = "application/json; charset=utf-8"
#: the pull API serves at most the last 7 days, 100 receipts per call, and has no paging
PULL_WINDOW = dt.timedelta(days=7)
PULL_LIMIT = 100

PERMANENT = {
    "FailedOperation.PhoneNumberInBlacklist",  # the holder unsubscribed (免打扰名单)
    "FailedOperation.PhoneNumberParseFail",
    "FailedOperation.TemplateParamSetNotMatchApprovedTemplate",
    "FailedOperation.ContainSensitiveWord",
    "FailedOperation.JsonParseFail",
    "FailedOperation.FailResolvePacket",
    "LimitExceeded.PhoneNumberCountLimit",
    "LimitExceeded.AppCountryOrRegionInBlacklist",
}
#: the account or its configuration, not the message
REFUSED = {
    "FailedOperation.SignatureIncorrectOrUnapproved",
    "FailedOperation.TemplateIncorrectOrUnapproved",
    "FailedOperation.TemplateUnapprovedOrNotExist",
    "FailedOperation.TemplateIdNotExist",
    "FailedOperation.MissingSignatureList",
    "FailedOperation.MissingTemplateList",
    "InvalidAction",
    "NoSuchVersion",
    "ActionOffline",
}
# AuthFailure.* includes SignatureExpire: a wrong clock does not fix itself.
REFUSED_PREFIXES = ("AuthFailure.", "UnauthorizedOperation.")
# InvalidParameter* also covers every InvalidParameterValue.* (bad number, variable too long, URL
# in a variable, …).
PERMANENT_PREFIXES = ("InvalidParameter", "MissingParameter", "UnsupportedOperation.")
RATE_LIMITED_PREFIXES = ("LimitExceeded.", "RequestLimitExceeded")


def classify(code: str) -> Outcome:
    """``Ok``; then the permanent ones; flow control; anything else (``InternalError.*``) may pass."""
    if code == "Ok":
        return Outcome.ACCEPTED
    if code in REFUSED or code.startswith(REFUSED_PREFIXES):
        return Outcome.REFUSED
    if code in PERMANENT or code.startswith(PERMANENT_PREFIXES):
        return Outcome.PERMANENT
    if code.startswith(RATE_LIMITED_PREFIXES):
        return Outcome.RATE_LIMITED
    return Outcome.TRANSIENT


def e164(mobile: str) -> str:
    """A mainland number as ``+86…``; anything already international is left to Tencent to judge."""
    m = mobile.strip()
    if m.startswith("+"):
        return m
    if len(m) == 13 and m.startswith("86"):
        return f"+{m}"
    return f"+86{m}"


def canonical_request(
    method: str, headers: Mapping[str, str], payload: bytes, query: str = ""
) -> str:
    """``headers``: the signed ones; names and values are lower-cased and trimmed, names sorted."""
    signed = {k.strip().lower(): v.strip().lower() for k, v in headers.items()}
    names = sorted(signed)
    lines = "".join(f"{k}:{signed[k]}\n" for k in names)
    return "\n".join(
        [method.upper(), "/", query, lines, ";".join(names), hashlib.sha256(payload).hexdigest()]
    )


def credential_scope(timestamp: int, service: str) -> str:
    # the date is the UTC one: a local (UTC+8) date breaks every call between 00:00 and 08:00
    return f"{dt.datetime.fromtimestamp(timestamp, dt.UTC):%Y-%m-%d}/{service}/tc3_request"


def string_to_sign(timestamp: int, service: str, canonical: str) -> str:
    return "\n".join(
        [
            ALGORITHM,
            str(timestamp),
            credential_scope(timestamp, service),
            hashlib.sha256(canonical.encode("utf-8")).hexdigest(),
        ]
    )


def signing_key(secret_key: str, date: str, service: str) -> bytes:
    def mac(key: bytes, msg: str) -> bytes:
        return hmac.new(key, msg.encode("utf-8"), hashlib.sha256).digest()

    return mac(mac(mac(f"TC3{secret_key}".encode(), date), service), "tc3_request")


def signature(secret_key: str, timestamp: int, service: str, canonical: str) -> str:
    date = credential_scope(timestamp, service).split("/", 1)[0]
    return hmac.new(
        signing_key(secret_key, date, service),
        string_to_sign(timestamp, service, canonical).encode("utf-8"),
        hashlib.sha256,
    ).hexdigest()


def authorization(
    secret_id: str,
    secret_key: str,
    *,
    timestamp: int,
    service: str,
    headers: Mapping[str, str],
    payload: bytes,
) -> str:
    canonical = canonical_request("POST", headers, payload)
    names = ";".join(sorted(k.lower() for k in headers))
    return (
        f"{ALGORITHM} Credential={secret_id}/{credential_scope(timestamp, service)}, "
        f"SignedHeaders={names}, Signature={signature(secret_key, timestamp, service, canonical)}"
    )


class TencentSms(SmsGateway):
    name = "tencent"

    def __init__(
        self,
        *,
        endpoint: str,
        secret_id: str,
        secret_key: str,
        sdk_app_id: str,
        sign_name: str,
        region: str = "ap-guangzhou",
        timeout: float = 10.0,
        param_order: Mapping[str, Sequence[str]] | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.endpoint = endpoint
        self.host = urlsplit(endpoint).netloc
        self._secret_id = secret_id
        self._secret_key = secret_key
        self.sdk_app_id = sdk_app_id
        self.sign_name = sign_name
        self.region = region
        self.timeout = timeout
        #: provider template id → variable names in the template's {1}, {2}, … order
        self.param_order = dict(param_order or {})
        self.clock = clock
        self._session = requests.Session()

    def __repr__(self) -> str:
        return f"TencentSms(endpoint={self.endpoint!r}, secret_id={self._secret_id!r})"

    def _call(self, action: str, body: dict[str, Any]) -> requests.Response:
        payload = json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        timestamp = int(self.clock())
        signed = {"Content-Type": CONTENT_TYPE, "Host": self.host}
        headers = {
            **signed,
            "X-TC-Action": action,
            "X-TC-Version": VERSION,
            "X-TC-Timestamp": str(timestamp),
            "X-TC-Region": self.region,
            "Authorization": authorization(
                self._secret_id,
                self._secret_key,
                timestamp=timestamp,
                service=SERVICE,
                headers=signed,
                payload=payload,
            ),
        }
        return self._session.post(
            self.endpoint, data=payload, headers=headers, timeout=(CONNECT_TIMEOUT, self.timeout)
        )

    def send(self, message: SmsMessage) -> SendResult:
        try:
            values = ordered_values(message.params, self.param_order.get(message.template_code))
        except TemplateVariablesMismatch as exc:
            return mismatch_result(exc)
        body = {
            "PhoneNumberSet": [e164(message.mobile)],
            "SmsSdkAppId": self.sdk_app_id,
            "TemplateId": message.template_code,
            "SignName": message.sign_name or self.sign_name,
            "TemplateParamSet": values,
            "SessionContext": message.message_id,
        }
        try:
            resp = self._call("SendSms", body)
        except (requests.Timeout, requests.ConnectionError) as exc:
            return transport_failure(exc)
        reply, failure = json_reply(resp)
        if failure:
            return failure
        answer: dict[str, Any] = reply.get("Response") or {}
        request_id = answer.get("RequestId")
        # request-level failures (signature, app id, throttling of the API) come as Error;
        # per-number outcomes (bad number, unsubscribed, flow control) in SendStatusSet
        status = answer.get("Error") or next(iter(answer.get("SendStatusSet") or []), {})
        code = str(status.get("Code") or f"HTTP_{resp.status_code}")
        return SendResult(
            classify(code),
            code,
            str(status.get("Message", ""))[:200],
            provider_message_id=status.get("SerialNo") or None,
            request_id=request_id,
            http_status=resp.status_code,
        )

    def lookup(self, message: SmsMessage, sent_on: dt.date) -> LookupResult:
        now = int(self.clock())
        # a day either side of the local date covers any time zone the outbox was written in
        begin, end = (
            dt.datetime.combine(sent_on + dt.timedelta(days=d), dt.time(), dt.UTC).timestamp()
            for d in (-1, 2)
        )
        window_start = now - PULL_WINDOW.total_seconds() + 60  # a minute's margin for clock skew
        if end < window_start:
            return LookupResult(False, code="RECEIPTS_EXPIRED", conclusive=False)
        resp = self._call(
            "PullSmsSendStatusByPhoneNumber",
            {
                "BeginTime": int(max(begin, window_start)),
                "EndTime": now,
                "Offset": 0,
                "Limit": PULL_LIMIT,
                "PhoneNumber": e164(message.mobile),
                "SmsSdkAppId": self.sdk_app_id,
            },
        )
        resp.raise_for_status()
        answer = resp.json().get("Response") or {}
        if answer.get("Error"):
            code = str(answer["Error"].get("Code"))
            if classify(code) == Outcome.PERMANENT:
                return LookupResult(False, code=code, conclusive=False)
            # asked again at the task's retry; meanwhile the message stays in doubt, unsent
            raise TransientError(f"PullSmsSendStatusByPhoneNumber failed: {code}")
        for receipt in answer.get("PullSmsSendStatusSet") or []:
            if receipt.get("SessionContext") == message.message_id:
                report = receipt.get("ReportStatus")
                return LookupResult(
                    True,
                    {"SUCCESS": True, "FAIL": False}.get(report),
                    receipt.get("SerialNo"),
                    report,
                )
        return LookupResult(False, code="NO_RECEIPT", conclusive=False)

    def close(self) -> None:
        self._session.close()
