"""A government SMS platform (政务短信平台) spoken to as configured: JSON over HTTP.

Everything about the platform comes from the connection's extra (see README "SMS gateways"):
where to send, which JSON field carries what (dotted paths), how variables travel (an object, or
a list in the template's order), what a success looks like, which error codes are permanent or
flow control, and optionally an HMAC-SHA256 signature over ``appId + timestamp + nonce + body``
keyed with the connection's password.

Finding a message again needs a status API that answers by our own id. Without one, a message in
doubt cannot be resolved: ``lookup`` says so and dispatch puts it on the call list, never resends.
A reply code listed in ``status.not_found_codes`` is taken as proof the platform never accepted the
message — list one only if the platform records messages when it accepts them.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import json
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

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
    config_error,
    json_reply,
    mismatch_result,
    ordered_values,
    transport_failure,
)

#: the request fields the product fills; ``None`` in the mapping leaves one out
FIELDS = ("mobile", "template_code", "params", "out_id", "sign_name")
DEFAULT_FIELDS = {
    "mobile": "mobile",
    "template_code": "templateCode",
    "params": "params",
    "out_id": "outId",
    "sign_name": "signName",
}
OPTIONAL_FIELDS = {"out_id", "sign_name"}
DEFAULT_STATUS_FIELDS = {"out_id": "outId", "mobile": "mobile"}
#: static headers are plain configuration, visible in the UI: no credential may hide in one
SECRET_HEADER_WORDS = ("authorization", "token", "secret", "password")


def get_path(doc: Any, path: str) -> Any:
    """``data.list.0.id`` into nested objects and arrays; None when any step is missing."""
    for step in path.split("."):
        if isinstance(doc, dict):
            doc = doc.get(step)
        elif isinstance(doc, list) and step.isdigit() and int(step) < len(doc):
            doc = doc[int(step)]
        else:
            return None
    return doc


def set_path(doc: dict[str, Any], path: str, value: Any) -> None:
    *parents, last = path.split(".")
    for step in parents:
        doc = doc.setdefault(step, {})
    doc[last] = value


def scalar(value: Any) -> str:
    """Codes compare as text: ``0``, ``"0"`` and a configured ``0`` are the same code."""
    return value if isinstance(value, str) else json.dumps(value)


def text_at(doc: Any, path: str) -> str | None:
    value = get_path(doc, path)
    return None if value is None else scalar(value)


def hmac_signature(
    secret: str, app_id: str, timestamp: str, nonce: str, body: bytes, encoding: str = "hex"
) -> str:
    digest = hmac.new(
        secret.encode("utf-8"),
        app_id.encode("utf-8") + timestamp.encode("ascii") + nonce.encode("ascii") + body,
        hashlib.sha256,
    ).digest()
    return digest.hex() if encoding == "hex" else base64.b64encode(digest).decode("ascii")


@dataclass(frozen=True)
class Signing:
    app_id_header: str = "X-App-Id"
    timestamp_header: str = "X-Timestamp"
    nonce_header: str = "X-Nonce"
    signature_header: str = "X-Signature"
    timestamp_unit: str = "ms"
    encoding: str = "hex"


@dataclass(frozen=True)
class StatusQuery:
    url: str
    fields: dict[str, Any]
    state_path: str
    delivered: tuple[str, ...]
    failed: tuple[str, ...]
    message_id_path: str
    not_found_codes: frozenset[str]


@dataclass(frozen=True)
class GenericSpec:
    """Built by ``from_extra``, which holds the defaults the README documents."""

    url: str
    method: str
    headers: dict[str, str]
    fields: dict[str, str | None]
    params_as: str
    success_path: str
    success_values: tuple[str, ...]
    message_id_path: str
    error_code_path: str
    error_message_path: str
    permanent_codes: frozenset[str]
    rate_limited_codes: frozenset[str]
    signing: Signing | None
    status: StatusQuery | None

    @classmethod
    def from_extra(cls, conn_id: str, extra: Mapping[str, Any], url: str) -> GenericSpec:
        def mapping(name: str, value: Any) -> dict[str, Any]:
            if not isinstance(value, dict):
                raise config_error(conn_id, name, "must be an object")
            return value

        def values(name: str, value: Any) -> tuple[str, ...]:
            items = value if isinstance(value, list) else [value]
            if any(v is None or isinstance(v, (dict, list)) for v in items):
                raise config_error(conn_id, name, "must be a value or a list of values")
            return tuple(scalar(v) for v in items)

        method = str(extra.get("method", "POST")).upper()
        if method not in {"POST", "PUT"}:
            raise config_error(conn_id, "extra.method", "must be POST or PUT (the body is JSON)")
        fields = {**DEFAULT_FIELDS, **mapping("extra.fields", extra.get("fields", {}))}
        for key, value in fields.items():
            if key not in FIELDS:
                raise config_error(conn_id, f"extra.fields.{key}", f"is not one of {list(FIELDS)}")
            if not value and key not in OPTIONAL_FIELDS:
                raise config_error(conn_id, f"extra.fields.{key}", "is required")
        params_as = extra.get("params_as", "object")
        if params_as not in {"object", "list"}:
            raise config_error(conn_id, "extra.params_as", "must be 'object' or 'list'")
        success = mapping("extra.success", extra.get("success", {}))
        headers = {
            str(k): str(v) for k, v in mapping("extra.headers", extra.get("headers", {})).items()
        }
        secretive = [k for k in headers if any(w in k.lower() for w in SECRET_HEADER_WORDS)]
        if secretive:
            raise config_error(
                conn_id,
                "extra.headers",
                f"must not carry credentials ({secretive}): "
                "they belong in the connection's login and password",
            )
        signing = None
        if extra.get("signing") is not None:
            given = mapping("extra.signing", extra["signing"])
            unknown = sorted(set(given) - set(Signing.__dataclass_fields__))
            if unknown:
                raise config_error(conn_id, "extra.signing", f"has unknown keys {unknown}")
            signing = Signing(**{k: str(v) for k, v in given.items()})
            if signing.timestamp_unit not in {"ms", "s"} or signing.encoding not in {
                "hex",
                "base64",
            }:
                raise config_error(
                    conn_id,
                    "extra.signing",
                    "needs timestamp_unit ms or s, and encoding hex or base64",
                )
        status = None
        if extra.get("status") is not None:
            given = mapping("extra.status", extra["status"])
            if not given.get("url"):
                raise config_error(conn_id, "extra.status.url", "is required when status is given")
            status_fields = {
                **DEFAULT_STATUS_FIELDS,
                **mapping("extra.status.fields", given.get("fields", {})),
            }
            for name, mapped in (
                ("extra.fields.out_id", fields["out_id"]),
                ("extra.status.fields.out_id", status_fields["out_id"]),
            ):
                if not mapped:
                    raise config_error(
                        conn_id, name, "is required: the status API finds messages by our id"
                    )
            status = StatusQuery(
                url=str(given["url"]),
                fields=status_fields,
                state_path=str(given.get("state_path", "data.status")),
                delivered=values("extra.status.delivered", given.get("delivered", ["DELIVERED"])),
                failed=values("extra.status.failed", given.get("failed", ["FAILED"])),
                message_id_path=str(given.get("message_id_path", "data.msgId")),
                not_found_codes=frozenset(
                    values("extra.status.not_found_codes", given.get("not_found_codes", []))
                ),
            )
        success_values = values("extra.success.equals", success.get("equals", ["0"]))
        if not success_values:
            raise config_error(conn_id, "extra.success.equals", "must name at least one value")
        return cls(
            url=url,
            method=method,
            headers=headers,
            fields=fields,
            params_as=params_as,
            success_path=str(success.get("path", "code")),
            success_values=success_values,
            message_id_path=str(extra.get("message_id_path", "data.msgId")),
            error_code_path=str(extra.get("error_code_path", "code")),
            error_message_path=str(extra.get("error_message_path", "message")),
            permanent_codes=frozenset(
                values("extra.permanent_codes", extra.get("permanent_codes", []))
            ),
            rate_limited_codes=frozenset(
                values("extra.rate_limited_codes", extra.get("rate_limited_codes", []))
            ),
            signing=signing,
            status=status,
        )

    def succeeded(self, http_status: int, reply: Any) -> bool:
        return (
            http_status < 400 and scalar(get_path(reply, self.success_path)) in self.success_values
        )

    def error_code(self, http_status: int, reply: Any) -> str:
        return text_at(reply, self.error_code_path) or f"HTTP_{http_status}"

    def classify(self, code: str, http_status: int) -> Outcome:
        """The platform's own lists first; then HTTP: 429 is flow control, another 4xx a request
        the platform will always refuse (auth, format); anything else may pass on a retry."""
        if http_status in (401, 403):  # the account, not the message
            return Outcome.REFUSED
        if code in self.permanent_codes:
            return Outcome.PERMANENT
        if code in self.rate_limited_codes or http_status == 429:
            return Outcome.RATE_LIMITED
        if 400 <= http_status < 500:
            return Outcome.PERMANENT
        return Outcome.TRANSIENT


class GenericHttpSms(SmsGateway):
    name = "generic"

    def __init__(
        self,
        spec: GenericSpec,
        *,
        sign_name: str,
        app_id: str = "",
        secret: str = "",
        timeout: float = 10.0,
        param_order: Mapping[str, Sequence[str]] | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.spec = spec
        self.sign_name = sign_name
        self._app_id = app_id
        self._secret = secret
        self.timeout = timeout
        #: provider template code → variable names, for ``params_as: list``
        self.param_order = dict(param_order or {})
        self.clock = clock
        self._session = requests.Session()

    def __repr__(self) -> str:
        return f"GenericHttpSms(url={self.spec.url!r}, app_id={self._app_id!r})"

    def request_body(self, message: SmsMessage) -> dict[str, Any]:
        f = self.spec.fields
        params: Any = dict(message.params)
        if self.spec.params_as == "list":
            params = ordered_values(message.params, self.param_order.get(message.template_code))
        body: dict[str, Any] = {}
        for key, value in (
            ("mobile", message.mobile),
            ("template_code", message.template_code),
            ("params", params),
            ("out_id", message.message_id),
            ("sign_name", message.sign_name or self.sign_name),
        ):
            if f.get(key):
                set_path(body, str(f[key]), value)
        return body

    def headers(self, payload: bytes) -> dict[str, str]:
        headers = {**self.spec.headers, "Content-Type": "application/json; charset=utf-8"}
        s = self.spec.signing
        if s:
            now = self.clock()
            timestamp = str(int(now * 1000) if s.timestamp_unit == "ms" else int(now))
            nonce = uuid.uuid4().hex
            headers.update(
                {
                    s.app_id_header: self._app_id,
                    s.timestamp_header: timestamp,
                    s.nonce_header: nonce,
                    s.signature_header: hmac_signature(
                        self._secret, self._app_id, timestamp, nonce, payload, s.encoding
                    ),
                }
            )
        return headers

    def _call(self, url: str, body: dict[str, Any]) -> requests.Response:
        payload = json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        return self._session.request(
            self.spec.method,
            url,
            data=payload,
            headers=self.headers(payload),
            timeout=(CONNECT_TIMEOUT, self.timeout),
        )

    def send(self, message: SmsMessage) -> SendResult:
        try:
            body = self.request_body(message)
        except TemplateVariablesMismatch as exc:
            return mismatch_result(exc)
        try:
            resp = self._call(self.spec.url, body)
        except (requests.Timeout, requests.ConnectionError) as exc:
            return transport_failure(exc)
        reply, failure = json_reply(resp)
        if failure:
            # a 401 or 429 without a JSON body still says what it is
            if resp.status_code < 500:
                return replace(failure, outcome=self.spec.classify("", resp.status_code))
            return failure
        provider_id = text_at(reply, self.spec.message_id_path)
        if self.spec.succeeded(resp.status_code, reply):
            return SendResult(
                Outcome.ACCEPTED,
                scalar(get_path(reply, self.spec.success_path)),
                "",
                provider_message_id=provider_id,
                http_status=resp.status_code,
            )
        code = self.spec.error_code(resp.status_code, reply)
        return SendResult(
            self.spec.classify(code, resp.status_code),
            code,
            (text_at(reply, self.spec.error_message_path) or "")[:200],
            provider_message_id=provider_id,
            http_status=resp.status_code,
        )

    def lookup(self, message: SmsMessage, sent_on: dt.date) -> LookupResult:
        status = self.spec.status
        if status is None:
            return LookupResult(False, code="NO_STATUS_API", conclusive=False)
        body: dict[str, Any] = {}
        set_path(body, status.fields["out_id"], message.message_id)
        if status.fields.get("mobile"):
            set_path(body, status.fields["mobile"], message.mobile)
        resp = self._call(status.url, body)
        reply, failure = json_reply(resp)
        if failure:
            raise TransientError(f"status query failed: {failure.code}")
        if self.spec.succeeded(resp.status_code, reply):
            state = text_at(reply, status.state_path)
            delivered = (
                True if state in status.delivered else False if state in status.failed else None
            )
            return LookupResult(True, delivered, text_at(reply, status.message_id_path), state)
        code = self.spec.error_code(resp.status_code, reply)
        if code in status.not_found_codes:
            return LookupResult(False, code=code)
        if self.spec.classify(code, resp.status_code) in {Outcome.TRANSIENT, Outcome.RATE_LIMITED}:
            raise TransientError(f"status query failed: {code}")
        # the platform answered, and will keep answering, neither "found" nor "never accepted"
        return LookupResult(False, code=code, conclusive=False)

    def close(self) -> None:
        self._session.close()
