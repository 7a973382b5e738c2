"""Alibaba Cloud SMS (dysmsapi 2017-05-25): SendSms and QuerySendDetails, RPC signature V2.

Signature: parameters sorted by name, RFC 3986 percent-encoded, joined as ``k=v&…``; the
string to sign is ``METHOD&%2F&percentEncode(query)``; HMAC-SHA1 keyed ``secret + "&"``; Base64.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import json
import uuid
from urllib.parse import quote

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
from licence_reminder.gateways.common import json_reply, transport_failure

VERSION = "2017-05-25"
PERMANENT = {
    "isv.MOBILE_NUMBER_ILLEGAL",
    "isv.MOBILE_COUNT_OVER_LIMIT",
    "isv.TEMPLATE_MISSING_PARAMETERS",
    "isv.INVALID_PARAMETERS",
    "isv.BLACK_KEY_CONTROL_LIMIT",
    "isv.PARAM_LENGTH_LIMIT",
    "isv.PARAM_NOT_SUPPORT_URL",
    "isv.INVALID_JSON_PARAM",
}
#: the account or its configuration, not the message
REFUSED = {
    "InvalidAccessKeyId.NotFound",
    "SignatureDoesNotMatch",
    "isv.ACCOUNT_NOT_EXISTS",
    "isv.ACCOUNT_ABNORMAL",
    "isv.DENY_IP_RANGE",
    "isv.SMS_TEMPLATE_ILLEGAL",
    "isv.SMS_SIGNATURE_ILLEGAL",
}
RATE_LIMITED = {
    "isv.BUSINESS_LIMIT_CONTROL",
    "isv.DAY_LIMIT_CONTROL",
    "Throttling.User",
    "isv.OUT_OF_SERVICE_LIMIT_CONTROL",
}


def percent_encode(value: str) -> str:
    return quote(str(value), safe="~")


def canonical_query(params: dict[str, str]) -> str:
    """Sorted, RFC 3986-encoded ``k=v&…``: what is signed, and a valid form body as it stands."""
    return "&".join(f"{percent_encode(k)}={percent_encode(v)}" for k, v in sorted(params.items()))


def sign(params: dict[str, str], secret: str, method: str = "POST") -> str:
    return sign_canonical(canonical_query(params), secret, method)


def sign_canonical(canonical: str, secret: str, method: str = "POST") -> str:
    # percentEncode(canonical) by replacement: the canonical query holds only unreserved
    # characters and "%", "=", "&", so encoding it again escapes just those three; quote() on
    # the whole string was half of what a signature cost
    encoded = canonical.replace("%", "%25").replace("=", "%3D").replace("&", "%26")
    to_sign = f"{method}&{percent_encode('/')}&{encoded}"
    digest = hmac.new(f"{secret}&".encode(), to_sign.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


def classify(code: str) -> Outcome:
    if code == "OK":
        return Outcome.ACCEPTED
    if code in REFUSED:
        return Outcome.REFUSED
    if code in PERMANENT:
        return Outcome.PERMANENT
    if code in RATE_LIMITED:
        return Outcome.RATE_LIMITED
    return Outcome.TRANSIENT


class AliyunSms(SmsGateway):
    name = "aliyun"

    def __init__(
        self,
        *,
        endpoint: str,
        access_key_id: str,
        access_key_secret: str,
        sign_name: str,
        timeout: float = 10.0,
    ) -> None:
        self.endpoint = endpoint
        self._key_id = access_key_id
        self._secret = access_key_secret
        self.sign_name = sign_name
        self.timeout = timeout
        self._session = requests.Session()
        # The signed canonical query goes out as the form body as it is (a dict would be encoded
        # a second time by requests).
        self._session.headers["Content-Type"] = "application/x-www-form-urlencoded"
        # Proxy and CA-bundle settings from the environment, read once here: with trust_env,
        # requests re-reads the whole environment on every call (~0.17 ms a request here, more
        # than a signature). It also keeps ~/.netrc credentials off a signed request.
        env = self._session.merge_environment_settings(endpoint, {}, None, None, None)
        self._session.proxies, self._session.verify = env["proxies"], env["verify"]
        self._session.trust_env = False

    def __repr__(self) -> str:
        return f"AliyunSms(endpoint={self.endpoint!r}, access_key_id={self._key_id!r})"

    def _call(self, action: str, extra: dict[str, str]) -> requests.Response:
        params = {
            "Action": action,
            "Version": VERSION,
            "Format": "JSON",
            "AccessKeyId": self._key_id,
            "SignatureMethod": "HMAC-SHA1",
            "SignatureVersion": "1.0",
            "SignatureNonce": uuid.uuid4().hex,
            "Timestamp": dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            **extra,
        }
        query = canonical_query(params)
        body = f"{query}&Signature={percent_encode(sign_canonical(query, self._secret, 'POST'))}"
        return self._session.post(
            self.endpoint, data=body.encode(), timeout=(CONNECT_TIMEOUT, self.timeout)
        )

    def send(self, message: SmsMessage) -> SendResult:
        extra = {
            "PhoneNumbers": message.mobile,
            "SignName": message.sign_name or self.sign_name,
            "TemplateCode": message.template_code,
            "TemplateParam": json.dumps(message.params, ensure_ascii=False),
            "OutId": message.message_id,
        }
        try:
            resp = self._call("SendSms", extra)
        except (requests.Timeout, requests.ConnectionError) as exc:
            return transport_failure(exc)
        body, failure = json_reply(resp)
        if failure:
            return failure
        code = str(body.get("Code", f"HTTP_{resp.status_code}"))
        return SendResult(
            classify(code),
            code,
            str(body.get("Message", ""))[:200],
            provider_message_id=body.get("BizId"),
            request_id=body.get("RequestId"),
            http_status=resp.status_code,
        )

    def lookup(self, message: SmsMessage, sent_on: dt.date) -> LookupResult:
        # SendDate is a Beijing date; sent_on may be a UTC one written shortly before midnight
        for day in (sent_on, sent_on + dt.timedelta(days=1)):
            found = self._lookup_on(message, day)
            if found.found:
                return found
        return LookupResult(False)

    def _lookup_on(self, message: SmsMessage, day: dt.date) -> LookupResult:
        page = 1
        while True:
            resp = self._call(
                "QuerySendDetails",
                {
                    "PhoneNumber": message.mobile,
                    "SendDate": day.strftime("%Y%m%d"),
                    "PageSize": "50",
                    "CurrentPage": str(page),
                },
            )
            try:
                body = resp.json()
            except ValueError:
                body = {}
            code = str(body.get("Code", f"HTTP_{resp.status_code}"))
            if code != "OK":
                # an error is not "no record": the message stays in doubt, asked again at the retry
                raise TransientError(
                    f"QuerySendDetails answered {code}: cannot tell yet whether "
                    f"message {message.message_id} was accepted"
                )
            details = (body.get("SmsSendDetailDTOs") or {}).get("SmsSendDetailDTO") or []
            for d in details:
                if d.get("OutId") == message.message_id:
                    status = int(d.get("SendStatus", 1))
                    return LookupResult(
                        True,
                        {1: None, 2: False, 3: True}.get(status),
                        d.get("BizId"),
                        d.get("ErrCode"),
                    )
            if len(details) < 50:
                return LookupResult(False)
            page += 1

    def close(self) -> None:
        self._session.close()
