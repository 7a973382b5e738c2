"""WeChat's mini-program server API on loopback: access tokens and subscribe messages.

- ``GET /wechat/cgi-bin/token?grant_type=client_credential&appid=…&secret=…``: a new token for
  ``token_ttl_seconds`` (7200 by default). As WeChat does, fetching a new one leaves the older
  ones valid for ``grace_seconds`` more (300), then answers 40001 for them; a token past its time
  is 42001; a wrong appid 40013, a wrong secret 40125.
- ``POST /wechat/cgi-bin/message/subscribe/send?access_token=…``: checks the token, the openid
  (40003 unless it looks like one of this app's), the template (40037 unless registered), the data
  (47003 for a missing or extra field or a value outside the field's rules, naming the field, as
  WeChat's errmsg does) and the holder's subscription (43101 without one; a one-time one is used
  up by the message). Accepted messages are listed by ``GET /_sim/wechat/messages``.

Test controls: ``POST /_sim/wechat/templates`` ``{template_id: [field keys]}``;
``POST /_sim/wechat/subscribe`` ``{"openid", "template_id", "kind": "one_time"|"long_term",
"count": 1}`` (what tapping "allow" in the mini-program does); ``POST /_sim/wechat/expire_tokens``
(every token issued is past its time); ``POST /_sim/wechat/faults`` ``{"rules": [{"openid": …,
"fault": "system_busy"|"timeout"|"http_500"|"stale_token", "times": n}], "token_ttl_seconds": …}``
(``stale_token``: answer 40001 once, as when another client of the app fetched a newer token).
"""

from __future__ import annotations

import itertools
import json
import os
import re
import secrets
import threading
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

from licence_reminder.channels.wechat import field_problem, mask_openid

#: a simulated openid: "o" and 27 more characters, as WeChat's look
OPENID = re.compile(r"^o[A-Za-z0-9_-]{27}$")


@dataclass
class WeChatState:
    appid: str = os.environ.get("LR_SIM_WECHAT_APPID", "wxsim0000000000001")
    secret: str = os.environ.get("LR_SIM_WECHAT_SECRET", "sim-wechat-secret")
    token_ttl_seconds: float = 7200.0
    grace_seconds: float = 300.0
    #: token -> the time it stops being taken
    tokens: dict[str, float] = field(default_factory=dict)
    tokens_issued: int = 0
    #: template id -> its data field keys
    templates: dict[str, list[str]] = field(default_factory=dict)
    #: (openid, template id) -> {"one_time": remaining, "long_term": bool}
    subscriptions: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)
    rules: list[dict[str, Any]] = field(default_factory=list)
    messages: list[dict[str, Any]] = field(default_factory=list)
    timeout_seconds: float = 15.0
    lock: threading.Lock = field(default_factory=threading.Lock)
    ids: Any = field(default_factory=lambda: itertools.count(2_000_000_000_000_001))

    def reset(self) -> None:
        with self.lock:
            self.tokens.clear()
            self.templates.clear()
            self.subscriptions.clear()
            self.rules.clear()
            self.messages.clear()
            self.tokens_issued = 0

    def subscribe(
        self, openid: str, template_id: str, kind: str = "one_time", count: int = 1
    ) -> None:
        with self.lock:
            sub = self.subscriptions.setdefault(
                (openid, template_id), {"one_time": 0, "long_term": False}
            )
            if kind == "long_term":
                sub["long_term"] = True
            else:
                sub["one_time"] += count

    def expire_tokens(self) -> None:
        with self.lock:
            self.tokens = dict.fromkeys(self.tokens, time.time() - 1)

    def configure(self, spec: dict[str, Any]) -> None:
        with self.lock:
            if "rules" in spec:
                self.rules = [dict(r) for r in spec["rules"]]
            if spec.get("token_ttl_seconds") is not None:
                self.token_ttl_seconds = float(spec["token_ttl_seconds"])
            if spec.get("timeout_seconds") is not None:
                self.timeout_seconds = float(spec["timeout_seconds"])

    def fault_for(self, openid: str) -> str | None:
        with self.lock:
            for rule in self.rules:
                if "openid" in rule and rule["openid"] != openid:
                    continue
                if rule.get("times") is not None:
                    if rule["times"] <= 0:
                        continue
                    rule["times"] -= 1
                return str(rule["fault"])
        return None

    # ------------------------------------------------------------------ the protocol
    def token(self, query: dict[str, str]) -> dict[str, Any]:
        if query.get("grant_type") != "client_credential":
            return {"errcode": 40002, "errmsg": "invalid grant_type"}
        if query.get("appid") != self.appid:
            return {"errcode": 40013, "errmsg": "invalid appid"}
        if query.get("secret") != self.secret:
            return {"errcode": 40125, "errmsg": "invalid appsecret"}
        now = time.time()
        with self.lock:
            for old, until in self.tokens.items():  # older tokens keep working a few minutes
                self.tokens[old] = min(until, now + self.grace_seconds)
            token = secrets.token_urlsafe(48)
            self.tokens[token] = now + self.token_ttl_seconds
            self.tokens_issued += 1
            return {"access_token": token, "expires_in": int(self.token_ttl_seconds)}

    def token_error(self, token: str) -> dict[str, Any] | None:
        with self.lock:
            until = self.tokens.get(token)
        if until is None:
            return {
                "errcode": 40001,
                "errmsg": "invalid credential, access_token is invalid or not latest",
            }
        if time.time() >= until:
            return {"errcode": 42001, "errmsg": "access_token expired"}
        return None

    def send(self, token: str, body: bytes) -> tuple[dict[str, Any], str | None]:
        """(reply, fault): the fault ``timeout`` means: accepted, answer too late."""
        refused = self.token_error(token)
        if refused:
            return refused, None
        try:
            payload = json.loads(body)
        except ValueError:
            return {"errcode": 47001, "errmsg": "data format error"}, None
        openid, template_id = str(payload.get("touser", "")), str(payload.get("template_id", ""))
        fault = self.fault_for(openid)
        if fault == "stale_token":
            return {
                "errcode": 40001,
                "errmsg": "invalid credential, access_token is invalid or not latest",
            }, None
        if fault == "system_busy":
            return {"errcode": -1, "errmsg": "system error"}, None
        if fault == "http_500":
            return {"_http": 500}, None
        if not OPENID.fullmatch(openid):
            return {"errcode": 40003, "errmsg": "invalid openid"}, None
        with self.lock:
            fields = self.templates.get(template_id)
        if fields is None:
            return {"errcode": 40037, "errmsg": "invalid template_id"}, None
        data = payload.get("data")
        if not isinstance(data, dict):
            return {"errcode": 47003, "errmsg": "argument invalid! data is empty"}, None
        for key in fields:
            value = data.get(key, {}).get("value") if isinstance(data.get(key), dict) else None
            if not value:
                return {
                    "errcode": 47003,
                    "errmsg": f"argument invalid! data.{key}.value is empty",
                }, None
            if field_problem(key, str(value)):
                return {
                    "errcode": 47003,
                    "errmsg": f"argument invalid! data.{key}.value invalid",
                }, None
        extra = sorted(set(data) - set(fields))
        if extra:
            return {
                "errcode": 47003,
                "errmsg": f"argument invalid! data.{extra[0]} not in template",
            }, None
        with self.lock:
            sub = self.subscriptions.get((openid, template_id))
            if not sub or not (sub["long_term"] or sub["one_time"] > 0):
                return {"errcode": 43101, "errmsg": "user refuse to accept the msg"}, None
            if not sub["long_term"]:
                sub["one_time"] -= 1
            msgid = next(self.ids)
            self.messages.append(
                {
                    "openid": openid,
                    "template_id": template_id,
                    "msgid": msgid,
                    "data": {k: v.get("value") for k, v in data.items()},
                    "page": payload.get("page"),
                    "miniprogram_state": payload.get("miniprogram_state"),
                    "accepted_at": time.time(),
                }
            )
        return {"errcode": 0, "errmsg": "ok", "msgid": msgid}, fault


def handle(
    handler: Any, state: WeChatState, method: str, path: str, query: str, body: bytes
) -> None:
    """Answer one request under ``/wechat/`` or ``/_sim/wechat/`` (``handler`` is the simulator's)."""
    params = dict(parse_qsl(query, keep_blank_values=True))
    if path == "/wechat/cgi-bin/token" and method == "GET":
        handler._reply(200, state.token(params))
    elif path == "/wechat/cgi-bin/message/subscribe/send" and method == "POST":
        reply, fault = state.send(params.get("access_token", ""), body)
        if reply.get("_http"):
            handler._reply(int(reply["_http"]), {"errcode": -1, "errmsg": "simulated"})
            return
        import logging

        logging.getLogger("licence_reminder.simulator").info(
            "wechat send %s errcode=%s",
            mask_openid(json.loads(body or b"{}").get("touser")),
            reply.get("errcode"),
        )
        if fault == "timeout":
            time.sleep(state.timeout_seconds)
        handler._reply(200, reply)
    elif path == "/_sim/wechat/messages" and method == "GET":
        with state.lock:
            handler._reply(200, list(state.messages))
    elif path == "/_sim/wechat/templates" and method == "POST":
        with state.lock:
            state.templates.update({str(k): list(v) for k, v in json.loads(body or b"{}").items()})
        handler._reply(200, {"ok": True})
    elif path == "/_sim/wechat/subscribe" and method == "POST":
        spec = json.loads(body or b"{}")
        state.subscribe(
            str(spec["openid"]),
            str(spec["template_id"]),
            str(spec.get("kind", "one_time")),
            int(spec.get("count", 1)),
        )
        handler._reply(200, {"ok": True})
    elif path == "/_sim/wechat/expire_tokens" and method == "POST":
        state.expire_tokens()
        handler._reply(200, {"ok": True})
    elif path == "/_sim/wechat/faults" and method == "POST":
        state.configure(json.loads(body or b"{}"))
        handler._reply(200, {"ok": True})
    else:
        handler._reply(404, {"errcode": 404, "errmsg": "not found"})


def airflow_connection(
    base_url: str, state: WeChatState | None = None, templates: dict[str, Any] | None = None
) -> dict[str, Any]:
    """The Airflow connection (``AIRFLOW_CONN_WECHAT_MINIPROGRAM``) that points the mini-program
    adapter here, with the demo's template (:data:`DEMO_TEMPLATE`) unless ``templates`` is given."""
    s = state or WeChatState()
    return {
        "conn_type": "http",
        "login": s.appid,
        "password": s.secret,
        "extra": {
            "provider": "wechat_miniprogram",
            "endpoint": f"{base_url}/wechat/",
            "miniprogram_state": "formal",
            "templates": templates or {"default": DEMO_TEMPLATE},
        },
    }


#: a licence-expiry template as a city would pick it from WeChat's library (证照到期提醒)
DEMO_TEMPLATE_ID = "simLicenceExpiryReminder0000000000000000001"
DEMO_TEMPLATE = {
    "template_id": DEMO_TEMPLATE_ID,
    "page": "pages/licence/renew",
    "data": {"thing1": "licence_name", "date2": "expiry", "thing3": "tip", "phrase4": "stage"},
}
