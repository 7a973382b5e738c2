"""The simulator: three SMS protocols on loopback, each checking its own signature, and WeChat's
mini-program API (``/wechat/``: tokens and subscribe messages, ``simulator/wechat.py``).

- ``/aliyun/``: Alibaba Cloud dysmsapi SendSms / QuerySendDetails, RPC signature (HMAC-SHA1).
- ``/tencent/``: Tencent Cloud SMS 2021-01-11 SendSms / PullSmsSendStatusByPhoneNumber, TC3-HMAC-SHA256;
  a timestamp more than 5 minutes off is ``AuthFailure.SignatureExpire``, a link in a template
  variable ``InvalidParameterValue.ProhibitedUseUrlInTemplateParameter``. Receipts show in the pull
  ``receipt_delay_seconds`` after acceptance (0 by default), as carrier reports come late.
- ``/generic/sms/send`` and ``/generic/sms/status``: the generic adapter's default protocol (README
  "SMS gateways"); its HMAC-SHA256 headers are checked when the simulator has a generic secret.

Approved templates, like a provider's: ``POST /_sim/templates`` with ``{"provider": …,
"templates": {code: text}}`` (``${name}`` for Alibaba and the generic platform, ``{1}`` for Tencent).
Once a provider has any, a message whose code is not among them is refused as unapproved, one whose
variables do not fill the text as a template mismatch, and an accepted one is recorded with the
``content`` the provider would deliver (【signature】 and the filled text). A variable longer than the
protocol's cap is refused (Alibaba: 35 characters; Tencent and generic: none unless
``param_caps`` in ``/_sim/faults`` sets one).

Faults are injected on demand (``POST /_sim/faults``) and mean the same in every protocol, worded in
each one's codes: ``timeout`` (accept, then answer too late), ``drop_after_accept`` (accept, then
close without a reply), ``http_500``, ``rate_limit``, ``invalid_number``, ``opted_out``, and
``undelivered`` (accepted, but the carrier's receipt says it never reached the handset). A rule with
``"on": "query"`` applies to the status queries instead: ``throttled`` answers a throttling error.
``"delay_seconds": S`` makes a slow gateway: every send is held S seconds before it is taken (a
status query in that time does not find it yet), then answered as usual.
``GET /_sim/messages`` lists what was accepted.

Pushed delivery reports: ``POST /_sim/push`` with ``{"provider": …, "url": …}`` pushes the reports
of the messages that provider accepted to ``url``, in the provider's own format (Alibaba SmsReport,
Tencent's status callback, the generic platform's callback signed like its requests), as one
batch; ``"out_ids"`` limits it to those messages, ``"duplicate": true`` repeats every report in
the batch, ``"reverse": true`` sends the batch newest first. It answers the receiver's HTTP status
and reply (``SimulatorHandle.push`` does the same from a test).

Each response is written in ONE write with TCP_NODELAY: headers and body in separate writes stall
on delayed ACKs (~23 requests/s instead of ~1,500).
"""

from __future__ import annotations

import hmac
import json
import logging
import os
import re
import socket
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self
from urllib.parse import parse_qsl, urlsplit

from licence_reminder.gateways import aliyun, tencent
from licence_reminder.gateways.generic import hmac_signature
from licence_reminder.masking import mask_mobile
from licence_reminder.simulator import wechat

log = logging.getLogger("licence_reminder.simulator")

MAX_SKEW_SECONDS = 300
SIGN_NAME = "安阳市政务服务"


def _beijing(epoch: float) -> time.struct_time:
    """Alibaba's dates and times are Beijing's, whatever the zone of the machine the simulator
    runs on (UTC in containers and here): a send date taken in UTC made a lookup between 00:00
    and 08:00 Beijing time miss a message sent, and it was sent again."""
    return time.gmtime(epoch + 8 * 3600)


@dataclass(frozen=True)
class SimulatorCredentials:
    """Test-only credentials; never real ones."""

    aliyun_key_id: str = os.environ.get("LR_SIM_ALIYUN_KEY", "sim-aliyun-key")
    aliyun_secret: str = os.environ.get("LR_SIM_ALIYUN_SECRET", "sim-aliyun-secret")
    tencent_secret_id: str = os.environ.get("LR_SIM_TENCENT_ID", "sim-tencent-id")
    tencent_secret_key: str = os.environ.get("LR_SIM_TENCENT_KEY", "sim-tencent-key")
    tencent_sdk_app_id: str = os.environ.get("LR_SIM_TENCENT_APP", "1400000000")
    generic_app_id: str = os.environ.get("LR_SIM_GENERIC_APP", "sim-generic-app")
    #: empty: the generic endpoint takes unsigned requests
    generic_secret: str = os.environ.get("LR_SIM_GENERIC_SECRET", "sim-generic-secret")


@dataclass
class _State:
    credentials: SimulatorCredentials
    messages: list[dict[str, Any]] = field(default_factory=list)
    rules: list[dict[str, Any]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    timeout_seconds: float = 15.0
    receipt_delay_seconds: float = 0.0
    delay_seconds: float = 0.0
    #: protocol -> code -> approved text
    templates: dict[str, dict[str, str]] = field(default_factory=dict)
    #: protocol -> the longest variable value it takes
    param_caps: dict[str, int] = field(default_factory=lambda: dict(PARAM_CAPS))

    def fault_for(self, mobile: str, phase: str = "send") -> str | None:
        """The fault of the first matching rule; ``on: query`` rules apply to status queries."""
        with self.lock:
            for rule in self.rules:
                if rule.get("on", "send") != phase:
                    continue
                if "mobile" in rule and rule["mobile"] != mobile:
                    continue
                if "mobile_suffix" in rule and not mobile.endswith(rule["mobile_suffix"]):
                    continue
                if rule.get("times") is not None:
                    if rule["times"] <= 0:
                        continue
                    rule["times"] -= 1
                return str(rule["fault"])
        return None

    def configure(self, spec: dict[str, Any]) -> None:
        with self.lock:
            if "rules" in spec:
                self.rules = [dict(r) for r in spec["rules"]]
            if spec.get("timeout_seconds") is not None:
                self.timeout_seconds = float(spec["timeout_seconds"])
            if spec.get("receipt_delay_seconds") is not None:
                self.receipt_delay_seconds = float(spec["receipt_delay_seconds"])
            if spec.get("delay_seconds") is not None:
                self.delay_seconds = float(spec["delay_seconds"])
            if spec.get("param_caps") is not None:
                self.param_caps = {k: int(v) for k, v in spec["param_caps"].items() if v}

    def approve(self, provider: str, templates: dict[str, str]) -> None:
        with self.lock:
            self.templates.setdefault(provider, {}).update(templates)

    def check_template(
        self, proto: str, code: str, params: dict[str, str] | list[str], sign_name: str
    ) -> tuple[str | None, str | None]:
        """(refusal, content): why the provider refuses the message, or the text it delivers."""
        with self.lock:
            approved = dict(self.templates.get(proto, {}))
            cap = self.param_caps.get(proto)
        values = list(params.values()) if isinstance(params, dict) else list(params)
        if cap and any(len(str(v)) > cap for v in values):
            return "param_too_long", None
        if not approved:
            return None, None
        if code not in approved:
            return "template_unapproved", None
        text = approved[code]
        if isinstance(params, list):
            names = [int(n) for n in re.findall(r"\{(\d+)\}", text)]
            if sorted(names) != list(range(1, len(params) + 1)):
                return "template_mismatch", None
            filled = re.sub(r"\{(\d+)\}", lambda m: str(params[int(m.group(1)) - 1]), text)
        else:
            names_in_text = re.findall(r"\$\{(\w+)\}", text)
            if set(names_in_text) - set(params):
                return "template_mismatch", None
            filled = re.sub(r"\$\{(\w+)\}", lambda m: str(params[m.group(1)]), text)
        return None, f"【{sign_name}】{filled}"


#: faults answered with a refusal, before anything is accepted
REFUSALS = ("http_500", "rate_limit", "invalid_number", "opted_out")
#: refusals of the message's template or variables (checked before the faults)
TEMPLATE_REFUSALS = ("param_too_long", "template_unapproved", "template_mismatch")
#: the longest variable value each protocol takes by default (Alibaba's documented 35)
PARAM_CAPS = {"aliyun": 35}


@dataclass(frozen=True)
class _Protocol:
    """How one provider words the outcomes every protocol shares."""

    name: str
    #: refusal → (HTTP status, code, message)
    refusals: dict[str, tuple[int, str, str]]
    accepted: Callable[[dict[str, Any], str], Any]
    refused: Callable[[dict[str, Any], str, str, str], Any]
    new_id: Callable[[], str]


def _tencent_status(record: dict[str, Any], code: str, text: str) -> dict[str, Any]:
    return {
        "SerialNo": record.get("provider_id", ""),
        "PhoneNumber": tencent.e164(record["mobile"]),
        "Fee": 1 if code == "Ok" else 0,
        "SessionContext": record.get("out_id") or "",
        "Code": code,
        "Message": text,
        "IsoCode": "CN",
    }


ALIYUN = _Protocol(
    "aliyun",
    {
        "http_500": (500, "InternalError", "simulated"),
        "rate_limit": (200, "isv.BUSINESS_LIMIT_CONTROL", "触发号码天级流控"),
        "invalid_number": (200, "isv.MOBILE_NUMBER_ILLEGAL", "非法手机号"),
        "opted_out": (200, "isv.BLACK_KEY_CONTROL_LIMIT", "黑名单管控"),
        "param_too_long": (200, "isv.PARAM_LENGTH_LIMIT", "参数超出长度限制"),
        "template_unapproved": (200, "isv.SMS_TEMPLATE_ILLEGAL", "该账号下找不到对应模板"),
        "template_mismatch": (200, "isv.TEMPLATE_MISSING_PARAMETERS", "模板缺少变量"),
    },
    accepted=lambda r, rid: {
        "Code": "OK",
        "Message": "OK",
        "BizId": r["provider_id"],
        "RequestId": rid,
    },
    refused=lambda r, code, text, rid: {"Code": code, "Message": text, "RequestId": rid},
    new_id=lambda: f"{int(time.time() * 1000)}^{uuid.uuid4().hex[:10]}",
)
TENCENT = _Protocol(
    "tencent",
    {
        "http_500": (500, "InternalError", "simulated"),
        "rate_limit": (
            200,
            "LimitExceeded.PhoneNumberDailyLimit",
            "单个手机号日下发短信条数超过设定的上限",
        ),
        "invalid_number": (200, "InvalidParameterValue.IncorrectPhoneNumber", "手机号格式错误"),
        "opted_out": (200, "FailedOperation.PhoneNumberInBlacklist", "手机号在免打扰名单库中"),
        "param_too_long": (
            200,
            "InvalidParameterValue.TemplateParameterLengthLimit",
            "单个变量的长度超过限制",
        ),
        "template_unapproved": (200, "FailedOperation.TemplateIdNotExist", "模板 ID 不存在"),
        "template_mismatch": (
            200,
            "FailedOperation.TemplateParamSetNotMatchApprovedTemplate",
            "请求内容与审核通过的模板内容不匹配",
        ),
    },
    accepted=lambda r, rid: {
        "Response": {"SendStatusSet": [_tencent_status(r, "Ok", "send success")], "RequestId": rid}
    },
    refused=lambda r, code, text, rid: {
        "Response": {"SendStatusSet": [_tencent_status(r, code, text)], "RequestId": rid}
    },
    new_id=lambda: f"{uuid.uuid4().int % 10000}:{uuid.uuid4().hex[:20]}",
)
GENERIC = _Protocol(
    "generic",
    {
        "http_500": (500, "500", "simulated"),
        "rate_limit": (200, "4290", "rate limited"),
        "invalid_number": (200, "4001", "invalid mobile"),
        "opted_out": (200, "4002", "recipient unsubscribed"),
        "param_too_long": (200, "4006", "template variable too long"),
        "template_unapproved": (200, "4005", "template not approved"),
        "template_mismatch": (200, "4003", "variables do not match the template"),
    },
    accepted=lambda r, rid: {"code": "0", "message": "OK", "data": {"msgId": r["provider_id"]}},
    refused=lambda r, code, text, rid: {"code": code, "message": text},
    new_id=lambda: uuid.uuid4().hex,
)

#: Tencent refuses a link in a template variable: links must be constant template text
_URL = re.compile(r"https?://|www\.", re.IGNORECASE)
_TC3 = re.compile(
    r"TC3-HMAC-SHA256 Credential=(?P<id>[^/]+)/(?P<date>\d{4}-\d{2}-\d{2})/(?P<service>[^/]+)"
    r"/tc3_request, SignedHeaders=(?P<signed>[a-z0-9;-]+), Signature=(?P<sig>[0-9a-f]{64})"
)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def setup(self) -> None:
        super().setup()
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def log_message(self, fmt: str, *args: Any) -> None:  # request lines carry mobiles: quiet
        pass

    def _reply(self, status: int, body: dict[str, Any] | list[Any]) -> None:
        payload = json.dumps(body, ensure_ascii=False).encode("utf-8")
        head = (
            f"HTTP/1.1 {status} {self.responses.get(status, ('',))[0]}\r\n"
            f"Content-Type: application/json;charset=utf-8\r\nContent-Length: {len(payload)}\r\n"
            "Connection: keep-alive\r\n\r\n"
        ).encode()
        self.wfile.write(head + payload)

    def _body(self) -> bytes:
        return self.rfile.read(int(self.headers.get("Content-Length") or 0))

    def do_GET(self) -> None:
        url = urlsplit(self.path)
        if url.path.startswith(("/wechat/", "/_sim/wechat/")):
            wechat.handle(self, self.server.wechat, "GET", url.path, url.query, b"")
        elif url.path == "/_sim/messages":
            with self.server.state.lock:
                self._reply(200, list(self.server.state.messages))
        elif url.path.startswith("/aliyun"):
            self._aliyun(dict(parse_qsl(url.query, keep_blank_values=True)), "GET")
        else:
            self._reply(404, {"error": "not found"})

    def do_POST(self) -> None:
        url = urlsplit(self.path)
        body = self._body()
        state = self.server.state
        if url.path.startswith(("/wechat/", "/_sim/wechat/")):
            wechat.handle(self, self.server.wechat, "POST", url.path, url.query, body)
        elif url.path == "/_sim/faults":
            state.configure(json.loads(body or b"{}"))
            self._reply(200, {"ok": True})
        elif url.path == "/_sim/templates":
            spec = json.loads(body or b"{}")
            state.approve(
                str(spec["provider"]), {str(k): str(v) for k, v in spec["templates"].items()}
            )
            self._reply(200, {"ok": True})
        elif url.path == "/_sim/push":
            spec = json.loads(body or b"{}")
            self._reply(
                200,
                push_reports(
                    state,
                    str(spec["provider"]),
                    str(spec["url"]),
                    out_ids=spec.get("out_ids"),
                    duplicate=bool(spec.get("duplicate")),
                    reverse=bool(spec.get("reverse")),
                ),
            )
        elif url.path == "/_sim/reset":
            with state.lock:
                state.rules, state.messages, state.delay_seconds, state.templates = [], [], 0.0, {}
            self.server.wechat.reset()
            self._reply(200, {"ok": True})
        elif url.path.startswith("/aliyun"):
            self._aliyun(dict(parse_qsl(body.decode("utf-8"), keep_blank_values=True)), "POST")
        elif url.path.startswith("/tencent"):
            self._tencent(body)
        elif url.path.startswith("/generic/"):
            self._generic(url.path, body)
        else:
            self._reply(404, {"error": "not found"})

    # ------------------------------------------------------------------ shared by the protocols
    def _deliver(self, proto: _Protocol, record: dict[str, Any]) -> None:
        """Refuse, or accept and record, then answer (or not) as the injected fault says."""
        state = self.server.state
        request_id = str(uuid.uuid4()).upper()
        mobile = record["mobile"]
        if state.delay_seconds:
            time.sleep(state.delay_seconds)
        refusal, content = state.check_template(
            proto.name, record["template"], record["params"], record["sign_name"]
        )
        fault = None if refusal else state.fault_for(mobile)
        log.info(
            "%s send %s template=%s fault=%s",
            proto.name,
            mask_mobile(mobile),
            record["template"],
            refusal or fault,
        )
        refusal = refusal or (fault if fault in REFUSALS else None)
        if refusal is None and not (len(mobile) == 11 and mobile.isdigit()):
            refusal = "invalid_number"
        if refusal:
            status, code, text = proto.refusals[refusal]
            self._reply(status, proto.refused(record, code, text, request_id))
            return
        now = time.time()
        record.update(
            protocol=proto.name,
            provider_id=proto.new_id(),
            accepted_at=now,
            content=content,
            delivered=fault != "undelivered",
            time=time.strftime("%Y-%m-%d %H:%M:%S", _beijing(now)),
            send_date=time.strftime("%Y%m%d", _beijing(now)),
        )
        with state.lock:
            state.messages.append(record)
        if fault == "drop_after_accept":
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR)
            return
        if fault == "timeout":
            time.sleep(state.timeout_seconds)
        self._reply(200, proto.accepted(record, request_id))

    def _accepted(
        self, protocol: str, match: Callable[[dict[str, Any]], bool]
    ) -> list[dict[str, Any]]:
        with self.server.state.lock:
            return [m for m in self.server.state.messages if m["protocol"] == protocol and match(m)]

    # ------------------------------------------------------------------ Alibaba Cloud
    def _aliyun(self, params: dict[str, str], method: str) -> None:
        request_id = str(uuid.uuid4()).upper()
        creds = self.server.state.credentials
        given = params.pop("Signature", "")
        if params.get("AccessKeyId") != creds.aliyun_key_id:
            self._reply(
                404,
                {
                    "Code": "InvalidAccessKeyId.NotFound",
                    "Message": "Specified access key is not found.",
                    "RequestId": request_id,
                },
            )
            return
        if aliyun.sign(params, creds.aliyun_secret, method) != given:
            self._reply(
                400,
                {
                    "Code": "SignatureDoesNotMatch",
                    "Message": "Specified signature is not matched with our calculation.",
                    "RequestId": request_id,
                },
            )
            return
        action = params.get("Action")
        if action == "SendSms":
            for key in ("SignName", "TemplateCode", "TemplateParam"):
                if not params.get(key):
                    self._reply(
                        200,
                        {
                            "Code": "isv.INVALID_PARAMETERS",
                            "Message": f"{key} missing",
                            "RequestId": request_id,
                        },
                    )
                    return
            self._deliver(
                ALIYUN,
                {
                    "mobile": params.get("PhoneNumbers", ""),
                    "sign_name": params["SignName"],
                    "template": params["TemplateCode"],
                    "params": json.loads(params["TemplateParam"]),
                    "out_id": params.get("OutId"),
                },
            )
        elif action == "QuerySendDetails":
            mobile, day = params.get("PhoneNumber", ""), params.get("SendDate", "")
            if self.server.state.fault_for(mobile, phase="query") == "throttled":
                self._reply(
                    200,
                    {
                        "Code": "Throttling.User",
                        "Message": "Request was denied due to user flow control.",
                        "RequestId": request_id,
                    },
                )
                return
            size, page = int(params.get("PageSize", "10")), int(params.get("CurrentPage", "1"))
            found = self._accepted(
                "aliyun", lambda m: m["mobile"] == mobile and m["send_date"] == day
            )
            chunk = found[(page - 1) * size : page * size]
            self._reply(
                200,
                {
                    "Code": "OK",
                    "Message": "OK",
                    "RequestId": request_id,
                    "TotalCount": len(found),
                    "SmsSendDetailDTOs": {
                        "SmsSendDetailDTO": [
                            {
                                "PhoneNum": m["mobile"],
                                "SendStatus": 3 if m["delivered"] else 2,
                                "ErrCode": "DELIVERED"
                                if m["delivered"]
                                else "MOBILE_NOT_ON_SERVICE",
                                "TemplateCode": m["template"],
                                "Content": "",
                                "OutId": m["out_id"],
                                "BizId": m["provider_id"],
                                "SendDate": m["time"],
                                "ReceiveDate": m["time"],
                            }
                            for m in chunk
                        ]
                    },
                },
            )
        else:
            self._reply(
                400,
                {
                    "Code": "InvalidAction.NotFound",
                    "Message": f"{action} is not supported",
                    "RequestId": request_id,
                },
            )

    # ------------------------------------------------------------------ Tencent Cloud
    def _tencent_auth_error(self, body: bytes) -> tuple[str, str] | None:
        creds = self.server.state.credentials
        auth = _TC3.fullmatch(self.headers.get("Authorization", ""))
        if not auth:
            return "AuthFailure.InvalidAuthorization", "请求头部的 Authorization 不符合腾讯云标准。"
        if auth["id"] != creds.tencent_secret_id:
            return "AuthFailure.SecretIdNotFound", "密钥不存在。"
        try:
            timestamp = int(self.headers.get("X-TC-Timestamp", ""))
        except ValueError:
            return "AuthFailure.InvalidAuthorization", "X-TC-Timestamp 缺失或不是整数。"
        if abs(time.time() - timestamp) > MAX_SKEW_SECONDS:
            return (
                "AuthFailure.SignatureExpire",
                "签名过期。Timestamp 和服务器时间相差不得超过五分钟。",
            )
        names = auth["signed"].split(";")
        scope = f"{auth['date']}/{auth['service']}/tc3_request"
        if (
            not {"content-type", "host"} <= set(names)
            or auth["service"] != tencent.SERVICE
            or scope != tencent.credential_scope(timestamp, tencent.SERVICE)
        ):
            return "AuthFailure.SignatureFailure", "签名错误。"
        canonical = tencent.canonical_request(
            "POST", {n: self.headers.get(n, "") for n in names}, body
        )
        expected = tencent.signature(
            creds.tencent_secret_key, timestamp, tencent.SERVICE, canonical
        )
        if not hmac.compare_digest(expected, auth["sig"]):
            return (
                "AuthFailure.SignatureFailure",
                "签名错误。签名计算错误，请对照签名方法文档检查签名计算过程。",
            )
        return None

    def _tencent(self, body: bytes) -> None:
        request_id = str(uuid.uuid4())

        def error(code: str, text: str) -> None:
            self._reply(
                200,
                {"Response": {"Error": {"Code": code, "Message": text}, "RequestId": request_id}},
            )

        refused = self._tencent_auth_error(body)
        if refused:
            error(*refused)
            return
        if self.headers.get("X-TC-Version") != tencent.VERSION:
            error("NoSuchVersion", "接口版本不存在。")
            return
        try:
            payload = json.loads(body)
        except ValueError:
            error("FailedOperation.JsonParseFail", "解析请求包体时候失败。")
            return
        if payload.get("SmsSdkAppId") != self.server.state.credentials.tencent_sdk_app_id:
            error("UnauthorizedOperation.SmsSdkAppIdVerifyFail", "SmsSdkAppId 校验失败。")
            return
        action = self.headers.get("X-TC-Action")
        if action == "SendSms":
            numbers, params = (
                payload.get("PhoneNumberSet") or [],
                payload.get("TemplateParamSet") or [],
            )
            if len(numbers) != 1:
                error("InvalidParameter", "the simulator takes exactly one number per request")
            elif not payload.get("TemplateId"):
                error("MissingParameter", "TemplateId 缺失。")
            elif not payload.get("SignName"):
                error("FailedOperation.SignatureIncorrectOrUnapproved", "签名未审批或格式错误。")
            elif not isinstance(params, list) or not all(isinstance(p, str) for p in params):
                error("InvalidParameter", "TemplateParamSet 必须是字符串数组。")
            elif any(_URL.search(p) for p in params):
                error(
                    "InvalidParameterValue.ProhibitedUseUrlInTemplateParameter",
                    "禁止在模板变量中使用 URL。",
                )
            else:
                number = str(numbers[0])
                self._deliver(
                    TENCENT,
                    {
                        "mobile": number.removeprefix("+86"),
                        "sign_name": payload["SignName"],
                        "template": payload["TemplateId"],
                        "params": params,
                        "out_id": payload.get("SessionContext"),
                    },
                )
        elif action == "PullSmsSendStatusByPhoneNumber":
            self._tencent_pull(payload, error, request_id)
        else:
            error("InvalidAction", f"接口 {action} 不存在。")

    def _tencent_pull(
        self, payload: dict[str, Any], error: Callable[[str, str], None], request_id: str
    ) -> None:
        now = time.time()
        try:
            begin, end, limit = (
                int(payload["BeginTime"]),
                int(payload.get("EndTime") or now),
                int(payload["Limit"]),
            )
        except (KeyError, TypeError, ValueError):
            error("MissingParameter", "BeginTime 和 Limit 必须是整数。")
            return
        if not 0 < limit <= tencent.PULL_LIMIT:
            error("InvalidParameterValue.LimitVerifyFail", "参数 Limit 校验失败。")
            return
        if begin < now - tencent.PULL_WINDOW.total_seconds():
            error("InvalidParameterValue.BeginTimeVerifyFail", "最大可拉取当前时期前7天的数据。")
            return
        mobile = str(payload.get("PhoneNumber", "")).removeprefix("+86")
        if self.server.state.fault_for(mobile, phase="query") == "throttled":
            error("RequestLimitExceeded", "请求的次数超过了频率限制。")
            return
        delay = self.server.state.receipt_delay_seconds
        receipts = self._accepted(
            "tencent",
            lambda m: (
                m["mobile"] == mobile
                and begin <= int(m["accepted_at"]) <= end
                and now - m["accepted_at"] >= delay
            ),
        )[:limit]
        self._reply(
            200,
            {
                "Response": {
                    "PullSmsSendStatusSet": [
                        {
                            "UserReceiveTime": time.strftime(
                                "%Y-%m-%d %H:%M:%S", _beijing(m["accepted_at"] + delay)
                            ),
                            "CountryCode": "86",
                            "SubscriberNumber": m["mobile"],
                            "PhoneNumber": tencent.e164(m["mobile"]),
                            "SerialNo": m["provider_id"],
                            "ReportStatus": "SUCCESS" if m["delivered"] else "FAIL",
                            "Description": "用户短信送达成功" if m["delivered"] else "用户停机",
                            "SessionContext": m["out_id"] or "",
                        }
                        for m in receipts
                    ],
                    "RequestId": request_id,
                }
            },
        )

    # ------------------------------------------------------------------ generic government platform
    def _generic_auth_error(self, body: bytes) -> tuple[str, str] | None:
        creds = self.server.state.credentials
        app_id = self.headers.get("X-App-Id", "")
        if app_id != creds.generic_app_id:
            return "4010", "unknown app id"
        timestamp, nonce = self.headers.get("X-Timestamp", ""), self.headers.get("X-Nonce", "")
        if (
            not timestamp.isdigit()
            or abs(time.time() * 1000 - int(timestamp)) > MAX_SKEW_SECONDS * 1000
        ):
            return "4011", "timestamp missing or more than 5 minutes off"
        expected = hmac_signature(creds.generic_secret, app_id, timestamp, nonce, body)
        if not hmac.compare_digest(expected, self.headers.get("X-Signature", "")):
            return "4012", "signature mismatch"
        return None

    def _generic(self, path: str, body: bytes) -> None:
        if self.server.state.credentials.generic_secret:
            refused = self._generic_auth_error(body)
            if refused:
                self._reply(401, {"code": refused[0], "message": refused[1]})
                return
        try:
            payload = json.loads(body)
        except ValueError:
            self._reply(400, {"code": "4000", "message": "body is not JSON"})
            return
        if path == "/generic/sms/send":
            missing = [
                k for k in ("mobile", "templateCode", "params", "signName") if not payload.get(k)
            ]
            if missing:
                self._reply(200, {"code": "4003", "message": f"missing {missing}"})
                return
            self._deliver(
                GENERIC,
                {
                    "mobile": str(payload["mobile"]),
                    "sign_name": payload["signName"],
                    "template": payload["templateCode"],
                    "params": payload["params"],
                    "out_id": payload.get("outId"),
                },
            )
        elif path == "/generic/sms/status":
            out_id = payload.get("outId")
            found = self._accepted("generic", lambda m: bool(out_id) and m["out_id"] == out_id)
            if found:
                self._reply(
                    200,
                    {
                        "code": "0",
                        "message": "OK",
                        "data": {
                            "msgId": found[0]["provider_id"],
                            "outId": found[0]["out_id"],
                            "status": "DELIVERED" if found[0]["delivered"] else "FAILED",
                        },
                    },
                )
            else:
                self._reply(200, {"code": "4040", "message": "no such message"})
        else:
            self._reply(404, {"code": "4004", "message": "not found"})


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, addr: tuple[str, int], state: _State) -> None:
        super().__init__(addr, _Handler)
        self.state = state
        #: the WeChat mini-program API (simulator/wechat.py)
        self.wechat = wechat.WeChatState()


class SimulatorHandle:
    def __init__(self, server: _Server, thread: threading.Thread) -> None:
        self._server, self._thread = server, thread
        host, port = server.server_address[:2]
        self.port = port
        self.url = f"http://{host}:{port}"
        self.credentials = server.state.credentials
        #: the WeChat side: tokens, templates, subscriptions, accepted messages
        self.wechat = server.wechat

    def messages(self) -> list[dict[str, Any]]:
        with self._server.state.lock:
            return list(self._server.state.messages)

    def set_faults(
        self,
        rules: list[dict[str, Any]],
        timeout_seconds: float | None = None,
        receipt_delay_seconds: float | None = None,
        delay_seconds: float | None = None,
        param_caps: dict[str, int] | None = None,
    ) -> None:
        self._server.state.configure(
            {
                "rules": rules,
                "timeout_seconds": timeout_seconds,
                "receipt_delay_seconds": receipt_delay_seconds,
                "delay_seconds": delay_seconds,
                "param_caps": param_caps,
            }
        )

    def approve(self, provider: str, templates: dict[str, str]) -> None:
        """Templates the provider has approved: code -> text (``${name}`` or ``{1}``)."""
        self._server.state.approve(provider, templates)

    def connection(self, provider: str) -> dict[str, Any]:
        return airflow_connection(provider, self.url, self.credentials)

    def push(
        self,
        provider: str,
        url: str,
        *,
        out_ids: list[str] | None = None,
        duplicate: bool = False,
        reverse: bool = False,
    ) -> dict[str, Any]:
        """Pushes ``provider``'s delivery reports to ``url`` (see the module's notes)."""
        return push_reports(
            self._server.state, provider, url, out_ids=out_ids, duplicate=duplicate, reverse=reverse
        )

    def reset(self) -> None:
        with self._server.state.lock:
            state = self._server.state
            state.rules, state.messages, state.delay_seconds, state.templates = [], [], 0.0, {}
        self._server.wechat.reset()

    def wechat_connection(self, templates: dict[str, Any] | None = None) -> dict[str, Any]:
        """The mini-program connection pointing here (``AIRFLOW_CONN_WECHAT_MINIPROGRAM``)."""
        return wechat.airflow_connection(self.url, self._server.wechat, templates)

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def report_batch(
    provider: str, messages: list[dict[str, Any]]
) -> list[dict[str, Any]] | dict[str, Any]:
    """The push body each provider sends for these accepted messages."""
    if provider == "aliyun":
        return [
            {
                "phone_number": m["mobile"],
                "send_time": m["time"],
                "report_time": m["time"],
                "success": m["delivered"],
                "err_code": "DELIVERED" if m["delivered"] else "MOBILE_NOT_ON_SERVICE",
                "err_msg": "用户接收成功" if m["delivered"] else "停机",
                "sms_size": "1",
                "biz_id": m["provider_id"],
                "out_id": m["out_id"] or "",
            }
            for m in messages
        ]
    if provider == "tencent":
        # as Tencent documents it: the message is named by its sid (SerialNo) only
        return [
            {
                "user_receive_time": m["time"],
                "nationcode": "86",
                "mobile": m["mobile"],
                "report_status": "SUCCESS" if m["delivered"] else "FAIL",
                "errmsg": "DELIVRD" if m["delivered"] else "MN:0001",
                "description": "用户短信送达成功" if m["delivered"] else "用户停机",
                "sid": m["provider_id"],
            }
            for m in messages
        ]
    if provider == "generic":
        return {
            "reports": [
                {
                    "outId": m["out_id"],
                    "msgId": m["provider_id"],
                    "mobile": m["mobile"],
                    "status": "DELIVERED" if m["delivered"] else "FAILED",
                    "reportTime": m["time"],
                }
                for m in messages
            ]
        }
    raise ValueError(f"{provider!r} pushes no reports")


def push_reports(
    state: _State,
    provider: str,
    url: str,
    *,
    out_ids: list[str] | None = None,
    duplicate: bool = False,
    reverse: bool = False,
) -> dict[str, Any]:
    with state.lock:
        messages = [
            m
            for m in state.messages
            if m.get("protocol") == provider and (out_ids is None or m.get("out_id") in out_ids)
        ]
        creds = state.credentials
    if reverse:
        messages.reverse()
    if duplicate:
        messages = [m for m in messages for _ in range(2)]
    payload = json.dumps(report_batch(provider, messages), ensure_ascii=False).encode("utf-8")
    headers = {"Content-Type": "application/json; charset=utf-8"}
    if provider == "generic" and creds.generic_secret:
        timestamp, nonce = str(int(time.time() * 1000)), uuid.uuid4().hex
        headers.update(
            {
                "X-App-Id": creds.generic_app_id,
                "X-Timestamp": timestamp,
                "X-Nonce": nonce,
                "X-Signature": hmac_signature(
                    creds.generic_secret, creds.generic_app_id, timestamp, nonce, payload
                ),
            }
        )
    log.info("%s push of %d reports", provider, len(messages))
    request = urllib.request.Request(url, data=payload, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=30) as resp:
            status, reply = resp.status, resp.read()
    except urllib.error.HTTPError as exc:
        status, reply = exc.code, exc.read()
    try:
        answer: Any = json.loads(reply)
    except ValueError:
        answer = reply.decode("utf-8", "replace")
    return {"status": status, "reply": answer, "reports": len(messages)}


#: how the generic adapter's default protocol refuses (the simulator's codes)
GENERIC_PERMANENT_CODES = ["4001", "4002", "4003", "4006", "4010", "4011", "4012"]
GENERIC_RATE_LIMITED_CODES = ["4290"]


def airflow_connection(
    provider: str, base_url: str, credentials: SimulatorCredentials | None = None
) -> dict[str, Any]:
    """The Airflow connection (``AIRFLOW_CONN_…`` JSON) that points ``provider``'s adapter here.

    It maps no template names to codes: the simulator takes the product's template names
    (``scjgj.spjy.stage1``) as the codes (``/_sim/templates`` approves them)."""
    c = credentials or SimulatorCredentials()
    common = {"provider": provider, "sign_name": SIGN_NAME}
    if provider == "aliyun":
        return {
            "conn_type": "http",
            "login": c.aliyun_key_id,
            "password": c.aliyun_secret,
            "extra": {**common, "endpoint": f"{base_url}/aliyun/"},
        }
    if provider == "tencent":
        return {
            "conn_type": "http",
            "login": c.tencent_secret_id,
            "password": c.tencent_secret_key,
            "extra": {
                **common,
                "endpoint": f"{base_url}/tencent/",
                "sdk_app_id": c.tencent_sdk_app_id,
                "region": "ap-guangzhou",
            },
        }
    if provider == "generic":
        extra: dict[str, Any] = {
            **common,
            "endpoint": f"{base_url}/generic/sms/send",
            "permanent_codes": GENERIC_PERMANENT_CODES,
            "rate_limited_codes": GENERIC_RATE_LIMITED_CODES,
            "status": {"url": f"{base_url}/generic/sms/status", "not_found_codes": ["4040"]},
        }
        if c.generic_secret:
            extra["signing"] = {}
        return {
            "conn_type": "http",
            "login": c.generic_app_id,
            "password": c.generic_secret,
            "extra": extra,
        }
    if provider == "wechat_miniprogram":
        return wechat.airflow_connection(base_url)
    raise ValueError(f"unknown provider {provider!r}")


def make_server(
    host: str = "127.0.0.1", port: int = 0, credentials: SimulatorCredentials | None = None
) -> _Server:
    return _Server((host, port), _State(credentials or SimulatorCredentials()))


def start_in_thread(
    credentials: SimulatorCredentials | None = None, host: str = "127.0.0.1", port: int = 0
) -> SimulatorHandle:
    server = make_server(host, port, credentials)
    # a short poll: stop() waits up to one interval, once per test that starts a simulator
    thread = threading.Thread(
        target=server.serve_forever,
        kwargs={"poll_interval": 0.05},
        name="sms-simulator",
        daemon=True,
    )
    thread.start()
    return SimulatorHandle(server, thread)
