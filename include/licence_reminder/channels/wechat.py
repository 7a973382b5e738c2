"""WeChat mini-program subscribe messages (订阅消息): ``subscribeMessage.send`` in its own protocol.

- ``GET cgi-bin/token?grant_type=client_credential&appid=…&secret=…`` gives an access token for
  about two hours (``expires_in``); it is kept until then (less a margin) and fetched again once
  when WeChat answers 40001 (invalid: another client of the same app fetched a newer one), 42001
  (expired) or 40014 (not a token), then the message is sent once more.
- ``POST cgi-bin/message/subscribe/send?access_token=…`` with ``touser`` (the holder's openid),
  ``template_id``, ``page``, ``data`` (``{"thing1": {"value": …}, …}``), ``miniprogram_state``
  and ``lang``. A one-time subscription allows one message; WeChat answers 43101 once it is used
  up or the holder refused. 43101, 47003 (data outside the field's rules) and 40003 (not an
  openid of this app) end that message, not the channel; a template or page WeChat does not
  know (40037, 41030), a wrong appid/secret or an IP not on the allow-list refuse the account.
- The data is checked against WeChat's per-field rules before any call (:func:`check_data`):
  ``thing`` ≤ 20 characters, ``phrase`` ≤ 5 Chinese characters, ``character_string`` ≤ 32 ASCII,
  ``number``, ``date``, ``time``, … — a violation names the field, its kind and the rule.

WeChat keeps no status of a subscribe message to ask about: a send whose reply was lost cannot be
settled and is not sent again (:meth:`WeChatSubscribe.lookup` says so). Openids are masked in
every log line and error (:func:`mask_openid`). The connection (``LR_WECHAT_CONN_ID``, default
``wechat_miniprogram``) holds the appid as login and the secret as password; its ``extra`` the
endpoint and the templates (docs/channels.md).
"""

from __future__ import annotations

import datetime as dt
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from licence_reminder.errors import PermanentError
from licence_reminder.gateways.base import LookupResult, Outcome, SendResult, SmsGateway, SmsMessage
from licence_reminder.masking import mask_digit_runs

PROVIDER = "wechat_miniprogram"
DEFAULT_ENDPOINT = "https://api.weixin.qq.com/"
#: a token is fetched again this long before WeChat says it expires
TOKEN_MARGIN_SECONDS = 300
#: a token WeChat no longer takes: fetch a new one, send once more
TOKEN_ERRORS = frozenset({40001, 40014, 42001})
#: the message cannot go, ever; the channel is fine
PERMANENT = {
    43101: "not subscribed, or the one-time subscription is used up",
    47003: "template data outside WeChat's rules",
    40003: "not an openid of this mini-program",
}
#: the account or its configuration is wrong: no message of this connection can go
REFUSED = {
    40013: "invalid appid",
    40125: "invalid secret",
    40164: "caller IP not on the allow-list",
    40037: "template_id unknown to this mini-program",
    41030: "page not in the released mini-program",
    48001: "API not authorised for this mini-program",
    40002: "invalid grant_type",
}
RATE_LIMITED = frozenset({45009, 45047})
_OPENID = re.compile(r"^[A-Za-z0-9_-]{20,64}$")


def mask_openid(openid: object) -> str:
    """``oAbC…wxYz`` kept to its first and last 4 characters: enough to tell two apart in a log."""
    s = "" if openid is None else str(openid)
    return f"{s[:4]}…{s[-4:]}" if len(s) > 10 else "*" * len(s)


def valid_openid(value: str) -> bool:
    return bool(_OPENID.fullmatch(value or ""))


# --------------------------------------------------------------------------- field rules
_HAN = r"\u3400-\u4dbf\u4e00-\u9fff"
_CLOCK = r"(?:[01]?\d|2[0-3]):[0-5]\d(?::[0-5]\d)?"
_DAY = r"\d{4}年\d{1,2}月\d{1,2}日"
_POINT_TIME = rf"(?:{_DAY} ?)?{_CLOCK}|{_DAY}"
_POINT_DATE = rf"{_DAY}(?: ?{_CLOCK})?"


def _span(point: str) -> re.Pattern[str]:
    return re.compile(rf"(?:{point})(?:~(?:{point}))?")


@dataclass(frozen=True)
class FieldRule:
    kind: str
    text: str
    max_length: int | None
    pattern: re.Pattern[str] | None = None


#: WeChat's rules for a subscribe message's data, by the kind its key starts with (``thing1``)
FIELD_RULES: Mapping[str, FieldRule] = {
    r.kind: r
    for r in (
        FieldRule("thing", "at most 20 characters", 20),
        FieldRule(
            "number", "at most 32 digits, a decimal point allowed", 32, re.compile(r"\d+(?:\.\d+)?")
        ),
        FieldRule("letter", "at most 32 letters", 32, re.compile(r"[A-Za-z]+")),
        FieldRule("symbol", "at most 5 symbols", 5, re.compile(rf"[^\sA-Za-z0-9{_HAN}]+")),
        FieldRule(
            "character_string",
            "at most 32 digits, letters or symbols (no Chinese)",
            32,
            re.compile(r"[\x21-\x7e]+"),
        ),
        FieldRule(
            "time",
            "a 24-hour time, a date may go before it (15:01, 2026年10月1日 15:01), two joined by ~",
            None,
            _span(_POINT_TIME),
        ),
        FieldRule(
            "date",
            "a date (2026年10月1日), a 24-hour time may follow, two joined by ~",
            None,
            _span(_POINT_DATE),
        ),
        FieldRule(
            "amount",
            "a currency sign and at most 10 digits, a decimal point and 元 allowed",
            None,
            re.compile(r"[¥￥$€£]?\d{1,10}(?:\.\d{1,2})?元?"),
        ),
        FieldRule("phone_number", "at most 17 digits or symbols", 17, re.compile(r"[0-9+\-() ]+")),
        FieldRule(
            "car_number",
            "at most 8 characters: a Chinese first and last, letters or digits between",
            8,
            re.compile(rf"[{_HAN}A-Z0-9][A-Z0-9]*[{_HAN}A-Z0-9]?"),
        ),
        FieldRule(
            "name",
            "at most 10 Chinese characters, or 20 letters",
            20,
            re.compile(rf"[{_HAN}·]{{1,10}}|[A-Za-z .·-]{{1,20}}"),
        ),
        FieldRule(
            "phrase", "at most 5 Chinese characters, nothing else", 5, re.compile(rf"[{_HAN}]+")
        ),
    )
}
_KEY = re.compile(r"^([a-z_]+?)(\d+)$")


def field_kind(key: str) -> str | None:
    match = _KEY.match(key)
    return match[1] if match and match[1] in FIELD_RULES else None


def field_problem(key: str, value: str) -> str | None:
    """Why WeChat would refuse ``value`` in field ``key`` (47003), never quoting the value."""
    kind = field_kind(key)
    if kind is None:
        return (
            f"field {key!r}: not a WeChat data field (a kind followed by its number, the kinds "
            f"are {sorted(FIELD_RULES)})"
        )
    rule = FIELD_RULES[kind]
    if not value:
        return f"field {key!r} ({kind}): empty"
    if rule.max_length is not None and len(value) > rule.max_length:
        return f"field {key!r} ({kind}): {len(value)} characters, WeChat takes {rule.text}"
    if rule.pattern is not None and not rule.pattern.fullmatch(value):
        return f"field {key!r} ({kind}): not {rule.text}"
    return None


class TemplateDataRejected(PermanentError):
    """A message's data breaks WeChat's field rules: it must not be sent as is."""


def check_data(template_name: str, data: Mapping[str, str]) -> None:
    problems = [p for k, v in data.items() if (p := field_problem(k, v)) is not None]
    if problems:
        raise TemplateDataRejected(f"mini-program template {template_name}: " + "; ".join(problems))


# --------------------------------------------------------------------------- configuration
#: what a template's data may be filled with (channels.render.miniprogram_values)
VALUES = (
    "licence_name",
    "licence_no",
    "licence_no_tail",
    "holder",
    "expiry",
    "days",
    "apply_by",
    "tip",
    "stage",
    "dept",
    "phone",
)


@dataclass(frozen=True)
class WeChatTemplate:
    template_id: str
    #: field key (``thing1``) -> the product value that fills it (:data:`VALUES`)
    data: dict[str, str]
    page: str | None = None


@dataclass(frozen=True)
class WeChatConfig:
    conn_id: str
    appid: str
    secret: str = field(repr=False)
    endpoint: str = DEFAULT_ENDPOINT
    timeout: float = 10.0
    #: ``formal``, ``trial`` or ``developer``: which build of the mini-program a tap opens
    miniprogram_state: str = "formal"
    lang: str = "zh_CN"
    #: ``<department>.<entry code>.stage<n>``, ``<department>.stage<n>``, ``stage<n>`` or
    #: ``default`` -> the template; the most specific name wins
    templates: dict[str, WeChatTemplate] = field(default_factory=dict)

    @classmethod
    def from_connection(cls, conn: Any) -> WeChatConfig:
        conn_id = conn.conn_id
        extra = dict(conn.extra_dejson or {})

        def bad(name: str, problem: str) -> PermanentError:
            return PermanentError(f"connection {conn_id!r}: field {name!r} {problem}")

        if str(extra.get("provider", "")).lower() != PROVIDER:
            raise bad("extra.provider", f"must be {PROVIDER!r}")
        if not conn.login:
            raise bad("login", "is required (the mini-program's AppID)")
        if not conn.password:
            raise bad("password", "is required (the mini-program's AppSecret)")
        state = str(extra.get("miniprogram_state", "formal"))
        if state not in {"formal", "trial", "developer"}:
            raise bad("extra.miniprogram_state", "must be formal, trial or developer")
        raw = extra.get("templates")
        if not isinstance(raw, dict) or not raw:
            raise bad(
                "extra.templates",
                'must name at least one template: {"default": {"template_id": '
                '…, "data": {"thing1": "licence_name", …}}}',
            )
        templates = {}
        for name, spec in raw.items():
            where = f"extra.templates.{name}"
            if (
                not isinstance(spec, dict)
                or not isinstance(spec.get("template_id"), str)
                or not spec["template_id"]
            ):
                raise bad(where, "must give template_id")
            data = spec.get("data")
            if not isinstance(data, dict) or not data:
                raise bad(f"{where}.data", "must map the template's fields to values")
            for key, value in data.items():
                if field_kind(str(key)) is None:
                    raise bad(
                        f"{where}.data.{key}",
                        f"is not a WeChat field (kinds: {sorted(FIELD_RULES)})",
                    )
                if value not in VALUES:
                    raise bad(
                        f"{where}.data.{key}", f"names {value!r}; the values are {list(VALUES)}"
                    )
            page = spec.get("page")
            if page is not None and not isinstance(page, str):
                raise bad(f"{where}.page", "must be a page path of the mini-program")
            templates[str(name)] = WeChatTemplate(
                spec["template_id"], {str(k): str(v) for k, v in data.items()}, page
            )
        try:
            timeout = float(extra.get("timeout", 10))
        except (TypeError, ValueError):
            timeout = 0
        if timeout <= 0:
            raise bad("extra.timeout", "must be a positive number of seconds")
        endpoint = str(extra.get("endpoint") or DEFAULT_ENDPOINT)
        return cls(
            conn_id=conn_id,
            appid=conn.login,
            secret=conn.password,
            endpoint=endpoint if endpoint.endswith("/") else endpoint + "/",
            timeout=timeout,
            miniprogram_state=state,
            lang=str(extra.get("lang", "zh_CN")),
            templates=templates,
        )

    def template_for(self, dept_code: str, entry_code: str, stage: int) -> WeChatTemplate | None:
        for name in (
            f"{dept_code}.{entry_code}.stage{stage}",
            f"{dept_code}.stage{stage}",
            f"stage{stage}",
            "default",
        ):
            if name in self.templates:
                return self.templates[name]
        return None


# --------------------------------------------------------------------------- the adapter
class WeChatSubscribe(SmsGateway):
    """``subscribeMessage.send`` behind the gateway interface the outbox sender speaks: the
    message's ``mobile`` is the openid, ``template_code`` the template id, ``params`` the data."""

    name = "wechat"

    def __init__(self, cfg: WeChatConfig, *, clock: Callable[[], float] = time.monotonic) -> None:
        import requests

        self.cfg = cfg
        self.timeout = cfg.timeout
        self._session = requests.Session()
        self._clock = clock
        self._token: str | None = None
        self._token_until = 0.0
        #: tokens fetched by this adapter (for the figures; WeChat caps them per day)
        self.tokens_fetched = 0

    def close(self) -> None:
        self._session.close()

    def lookup(self, message: SmsMessage, sent_on: dt.date) -> LookupResult:
        """WeChat has no status of a subscribe message to ask for: nothing proves it never went."""
        return LookupResult(found=False, conclusive=False, code="NO_STATUS_API")

    def _access_token(self, *, fresh: bool = False) -> str | SendResult:
        import requests

        from licence_reminder.gateways.base import CONNECT_TIMEOUT
        from licence_reminder.gateways.common import json_reply

        if not fresh and self._token and self._clock() < self._token_until:
            return self._token
        try:
            resp = self._session.get(
                f"{self.cfg.endpoint}cgi-bin/token",
                timeout=(CONNECT_TIMEOUT, self.timeout),
                params={
                    "grant_type": "client_credential",
                    "appid": self.cfg.appid,
                    "secret": self.cfg.secret,
                },
            )
        except (requests.Timeout, requests.ConnectionError) as exc:
            # nothing was sent yet: no message can be in doubt because of the token
            return SendResult(Outcome.TRANSIENT, "TOKEN_UNREACHABLE", type(exc).__name__)
        body, failed = json_reply(resp)
        if failed is not None:
            return failed
        code = int(body.get("errcode") or 0)
        if code == 0 and body.get("access_token"):
            self._token = str(body["access_token"])
            lifetime = float(body.get("expires_in") or 7200)
            self._token_until = self._clock() + max(lifetime - TOKEN_MARGIN_SECONDS, lifetime / 2)
            self.tokens_fetched += 1
            return self._token
        return _result(code, body, http_status=resp.status_code, fetching_token=True)

    def send(self, message: SmsMessage) -> SendResult:
        import requests

        from licence_reminder.gateways.base import CONNECT_TIMEOUT
        from licence_reminder.gateways.common import json_reply, transport_failure

        payload = {
            "touser": message.mobile,
            "template_id": message.template_code,
            "data": {k: {"value": v} for k, v in message.params.items()},
            "miniprogram_state": self.cfg.miniprogram_state,
            "lang": self.cfg.lang,
        }
        page = self._page(message.template_code)
        if page:
            payload["page"] = page
        for fresh in (False, True):
            token = self._access_token(fresh=fresh)
            if isinstance(token, SendResult):
                return token
            try:
                resp = self._session.post(
                    f"{self.cfg.endpoint}cgi-bin/message/subscribe/send",
                    params={"access_token": token},
                    json=payload,
                    timeout=(CONNECT_TIMEOUT, self.timeout),
                )
            except (requests.Timeout, requests.ConnectionError) as exc:
                return transport_failure(exc)
            body, failed = json_reply(resp)
            if failed is not None:
                return failed
            code = int(body.get("errcode") or 0)
            if code in TOKEN_ERRORS and not fresh:
                continue  # the token went stale under us: one fresh token, one more send
            if code == 0:
                msgid = body.get("msgid")
                return SendResult(
                    Outcome.ACCEPTED,
                    "0",
                    "ok",
                    provider_message_id=None if msgid is None else str(msgid),
                    http_status=resp.status_code,
                )
            return _result(code, body, http_status=resp.status_code)
        raise AssertionError("unreachable")

    def _page(self, template_id: str) -> str | None:
        return next(
            (
                t.page
                for t in self.cfg.templates.values()
                if t.template_id == template_id and t.page
            ),
            None,
        )


def _result(
    code: int, body: Mapping[str, Any], *, http_status: int, fetching_token: bool = False
) -> SendResult:
    # WeChat's errmsg names the field that failed (data.thing1.value) and a request id; a digit run
    # in it is masked all the same
    text = mask_digit_runs(str(body.get("errmsg") or ""))[:300]
    if code in PERMANENT and not fetching_token:
        return SendResult(
            Outcome.PERMANENT, str(code), f"{PERMANENT[code]}: {text}", http_status=http_status
        )
    if code in REFUSED or fetching_token and code in TOKEN_ERRORS:
        why = REFUSED.get(code, "wrong AppSecret")
        return SendResult(Outcome.REFUSED, str(code), f"{why}: {text}", http_status=http_status)
    if code in RATE_LIMITED:
        return SendResult(Outcome.RATE_LIMITED, str(code), text, http_status=http_status)
    # -1 (system busy), a token still refused after a fresh one, anything undocumented: try later
    return SendResult(Outcome.TRANSIENT, str(code), text, http_status=http_status)
