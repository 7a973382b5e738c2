"""The simulator: Alibaba Cloud dysmsapi SendSms / QuerySendDetails on ``/aliyun/``.

It verifies every request's HMAC-SHA1 signature with the credentials it was given, records the
messages it accepts, and injects faults on demand (``POST /_sim/faults``): ``timeout`` (accept,
then answer too late), ``drop_after_accept`` (accept, then close without a reply), ``http_500``,
``rate_limit``, ``invalid_number``. ``GET /_sim/messages`` lists what was accepted.

Each response is written in ONE write with TCP_NODELAY: headers and body in separate writes stall
on delayed ACKs (~23 requests/s instead of ~1,500).
"""

from __future__ import annotations

import json
import logging
import os
import socket
import threading
import time
import uuid
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from licence_reminder.gateways.aliyun import sign
from licence_reminder.masking import mask_mobile

log = logging.getLogger("licence_reminder.simulator")


@dataclass(frozen=True)
class SimulatorCredentials:
    """Test-only credentials; never real ones."""

    aliyun_key_id: str = os.environ.get("LR_SIM_ALIYUN_KEY", "sim-aliyun-key")
    aliyun_secret: str = os.environ.get("LR_SIM_ALIYUN_SECRET", "sim-aliyun-secret")


@dataclass
class _State:
    credentials: SimulatorCredentials
    messages: list[dict[str, Any]] = field(default_factory=list)
    rules: list[dict[str, Any]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    timeout_seconds: float = 15.0

    def fault_for(self, mobile: str) -> str | None:
        with self.lock:
            for rule in self.rules:
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
        head = (f"HTTP/1.1 {status} {self.responses.get(status, ('',))[0]}\r\n"
                f"Content-Type: application/json;charset=utf-8\r\nContent-Length: {len(payload)}\r\n"
                "Connection: keep-alive\r\n\r\n").encode()
        self.wfile.write(head + payload)

    def _body(self) -> bytes:
        return self.rfile.read(int(self.headers.get("Content-Length") or 0))

    def do_GET(self) -> None:
        url = urlsplit(self.path)
        if url.path == "/_sim/messages":
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
        if url.path == "/_sim/faults":
            spec = json.loads(body or b"{}")
            with state.lock:
                state.rules = list(spec.get("rules", []))
            self._reply(200, {"ok": True})
        elif url.path == "/_sim/reset":
            with state.lock:
                state.rules, state.messages = [], []
            self._reply(200, {"ok": True})
        elif url.path.startswith("/aliyun"):
            self._aliyun(dict(parse_qsl(body.decode("utf-8"), keep_blank_values=True)), "POST")
        else:
            self._reply(404, {"error": "not found"})

    def _aliyun(self, params: dict[str, str], method: str) -> None:
        state = self.server.state
        request_id = str(uuid.uuid4()).upper()
        creds = state.credentials
        given = params.pop("Signature", "")
        if params.get("AccessKeyId") != creds.aliyun_key_id:
            self._reply(404, {"Code": "InvalidAccessKeyId.NotFound", "Message": "Specified access key is not found.", "RequestId": request_id})
            return
        if sign(params, creds.aliyun_secret, method) != given:
            self._reply(400, {"Code": "SignatureDoesNotMatch", "Message": "Specified signature is not matched with our calculation.", "RequestId": request_id})
            return
        action = params.get("Action")
        if action == "SendSms":
            self._aliyun_send(params, request_id)
        elif action == "QuerySendDetails":
            mobile, day = params.get("PhoneNumber", ""), params.get("SendDate", "")
            size, page = int(params.get("PageSize", "10")), int(params.get("CurrentPage", "1"))
            with state.lock:
                found = [m for m in state.messages if m["mobile"] == mobile and m["send_date"] == day]
            chunk = found[(page - 1) * size: page * size]
            self._reply(200, {"Code": "OK", "Message": "OK", "RequestId": request_id,
                              "TotalCount": len(found), "SmsSendDetailDTOs": {"SmsSendDetailDTO": [
                                  {"PhoneNum": m["mobile"], "SendStatus": 3, "ErrCode": "DELIVERED",
                                   "TemplateCode": m["template"], "Content": "", "OutId": m["out_id"],
                                   "BizId": m["provider_id"], "SendDate": m["time"], "ReceiveDate": m["time"]}
                                  for m in chunk]}})
        else:
            self._reply(400, {"Code": "InvalidAction.NotFound", "Message": f"{action} is not supported", "RequestId": request_id})

    def _aliyun_send(self, params: dict[str, str], request_id: str) -> None:
        state = self.server.state
        mobile = params.get("PhoneNumbers", "")
        fault = state.fault_for(mobile)
        log.info("SendSms %s template=%s fault=%s", mask_mobile(mobile), params.get("TemplateCode"), fault)
        if fault == "http_500":
            self._reply(500, {"Code": "InternalError", "Message": "simulated", "RequestId": request_id})
            return
        if fault == "rate_limit":
            self._reply(200, {"Code": "isv.BUSINESS_LIMIT_CONTROL", "Message": "触发号码天级流控", "RequestId": request_id})
            return
        if fault == "invalid_number" or not (len(mobile) == 11 and mobile.isdigit()):
            self._reply(200, {"Code": "isv.MOBILE_NUMBER_ILLEGAL", "Message": "非法手机号", "RequestId": request_id})
            return
        for key in ("SignName", "TemplateCode", "TemplateParam"):
            if not params.get(key):
                self._reply(200, {"Code": "isv.INVALID_PARAMETERS", "Message": f"{key} missing", "RequestId": request_id})
                return
        biz_id = f"{int(time.time() * 1000)}^{uuid.uuid4().hex[:10]}"
        now = time.localtime()
        record = {"protocol": "aliyun", "mobile": mobile, "sign_name": params["SignName"],
                  "template": params["TemplateCode"], "params": json.loads(params["TemplateParam"]),
                  "out_id": params.get("OutId"), "provider_id": biz_id,
                  "time": time.strftime("%Y-%m-%d %H:%M:%S", now), "send_date": time.strftime("%Y%m%d", now)}
        with state.lock:
            state.messages.append(record)
        if fault == "drop_after_accept":
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR)
            return
        if fault == "timeout":
            time.sleep(state.timeout_seconds)
        self._reply(200, {"Code": "OK", "Message": "OK", "BizId": biz_id, "RequestId": request_id})


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, addr: tuple[str, int], state: _State) -> None:
        super().__init__(addr, _Handler)
        self.state = state


class SimulatorHandle:
    def __init__(self, server: _Server, thread: threading.Thread) -> None:
        self._server, self._thread = server, thread
        host, port = server.server_address[:2]
        self.port = port
        self.url = f"http://{host}:{port}"

    def messages(self) -> list[dict[str, Any]]:
        with self._server.state.lock:
            return list(self._server.state.messages)

    def set_faults(self, rules: list[dict[str, Any]], timeout_seconds: float | None = None) -> None:
        with self._server.state.lock:
            self._server.state.rules = [dict(r) for r in rules]
            if timeout_seconds is not None:
                self._server.state.timeout_seconds = timeout_seconds

    def reset(self) -> None:
        with self._server.state.lock:
            self._server.state.rules, self._server.state.messages = [], []

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> SimulatorHandle:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def make_server(host: str = "127.0.0.1", port: int = 0,
                credentials: SimulatorCredentials | None = None) -> _Server:
    return _Server((host, port), _State(credentials or SimulatorCredentials()))


def start_in_thread(credentials: SimulatorCredentials | None = None, host: str = "127.0.0.1",
                    port: int = 0) -> SimulatorHandle:
    server = make_server(host, port, credentials)
    thread = threading.Thread(target=server.serve_forever, name="sms-simulator", daemon=True)
    thread.start()
    return SimulatorHandle(server, thread)
