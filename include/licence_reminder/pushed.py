"""Delivery reports the SMS providers push: Alibaba's SmsReport (HTTP batch push), Tencent's status
callback and the generic platform's callback, received by ``licence_reminder.receipts_api``.

Each provider pushes to a *receiver*: an Airflow connection ``lr_receipts_<name>`` (docs/pushed-
reports.md). Its ``extra.provider`` says which format comes in, ``extra.allow`` the networks the
provider pushes from (nothing else is heard), and its password the secret: for Alibaba and Tencent,
whose pushes carry no signature, a token the provider sends in the receiver URL's query
(``?token=…``); for the generic platform with ``extra.signing``, the key of the same HMAC-SHA256
signature its API takes (``gateways/generic.py``), checked on the callback.

A report is stored first (``pushed_report``, one row per provider and message: a pushed-again
report is not stored twice) and then applied by :func:`apply`, through ``receipts.settle`` — the
function the pull path uses — so the message gets the same ``delivery_attempt`` receipt row
whichever way its report came, and only the first report changes it. A report naming a message
not recorded as sent yet (the push overtook the send's record, or the send is in doubt) stays
pending and is applied by a later :func:`apply` (each push, and each dispatch's receipts task).
"""

from __future__ import annotations

import datetime as dt
import hmac
import ipaddress
import logging
import threading
import time
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from licence_reminder import figures
from licence_reminder.config import local_now
from licence_reminder.db import sql
from licence_reminder.gateways.common import config_error
from licence_reminder.gateways.generic import Signing, get_path, hmac_signature, scalar, text_at
from licence_reminder.masking import mask_mobile

if TYPE_CHECKING:
    from sqlalchemy import Engine

log = logging.getLogger(__name__)

PROVIDERS = ("aliyun", "tencent", "generic")
CONN_PREFIX = "lr_receipts_"
CACHE_SECONDS = 60.0
#: a signed callback older or newer than this is refused (a replayed capture)
MAX_SKEW_SECONDS = 300
#: reports in one push; Alibaba and Tencent batch a few hundred at most
MAX_REPORTS = 5000
#: outbox statuses of a message whose send is not recorded yet: its report waits
IN_FLIGHT = frozenset({"pending", "sending", "unknown"})
#: the generic platform's callback, as the simulator speaks it; every path can be configured
DEFAULT_CALLBACK = {
    "list_path": "reports",
    "out_id": "outId",
    "message_id": "msgId",
    "mobile": "mobile",
    "state": "status",
    "reported_at": "reportTime",
}
#: what each provider expects as the answer to a push it may consider received
ACK = {
    "aliyun": {"code": 0, "msg": "接收成功"},
    "tencent": {"result": 0, "errmsg": "OK"},
    "generic": {"code": "0", "message": "OK"},
}
Network = ipaddress.IPv4Network | ipaddress.IPv6Network


class ReportInvalid(ValueError):
    """A push whose body is not the provider's format: says which item and field."""


class NotAllowed(Exception):
    """Not from an allowed address, or without the receiver's token or signature."""


@dataclass(frozen=True)
class Report:
    provider: str
    #: our outbox id (Alibaba out_id, Tencent ext, the platform's out id), when the report has it
    out_id: str | None
    provider_message_id: str | None
    delivered: bool
    code: str | None
    recipient_masked: str
    reported_at: str | None

    @property
    def message_key(self) -> str:
        return self.out_id or f"sid:{self.provider_message_id}"


@dataclass(frozen=True)
class Callback:
    """Where the generic platform's callback carries each value (dotted paths, as in generic.py)."""

    paths: dict[str, str]
    delivered: tuple[str, ...]
    failed: tuple[str, ...]


@dataclass(frozen=True)
class Receiver:
    name: str
    provider: str
    secret: str
    allow: tuple[Network, ...]
    #: a reverse proxy in front of the API server: the client is the last X-Forwarded-For hop
    trusted_proxies: tuple[Network, ...] = ()
    app_id: str = ""
    signing: Signing | None = None
    callback: Callback | None = None

    @classmethod
    def from_connection(cls, name: str, conn: Any) -> Receiver:
        conn_id = f"{CONN_PREFIX}{name}"
        extra: Mapping[str, Any] = conn.extra_dejson or {}
        provider = extra.get("provider")
        if provider not in PROVIDERS:
            raise config_error(conn_id, "extra.provider", f"must be one of {list(PROVIDERS)}")
        if not conn.password or len(conn.password) < 16:
            raise config_error(
                conn_id, "password", "must be the receiver's secret, 16 characters or more"
            )

        def networks(field: str) -> tuple[Network, ...]:
            given = extra.get(field, [])
            if not isinstance(given, list):
                raise config_error(
                    conn_id, f"extra.{field}", "must be a list of addresses or CIDR networks"
                )
            try:
                return tuple(ipaddress.ip_network(str(n), strict=False) for n in given)
            except ValueError as exc:
                raise config_error(
                    conn_id, f"extra.{field}", f"has an entry that is not a network: {exc}"
                ) from None

        allow = networks("allow")
        if not allow:
            raise config_error(
                conn_id, "extra.allow", "must list the networks the provider pushes from"
            )
        signing = callback = None
        if provider == "generic":
            if extra.get("signing") is not None:
                given_signing = dict(extra["signing"])
                unknown = sorted(set(given_signing) - set(Signing.__dataclass_fields__))
                if unknown:
                    raise config_error(conn_id, "extra.signing", f"has unknown keys {unknown}")
                signing = Signing(**{k: str(v) for k, v in given_signing.items()})
                if not conn.login:
                    raise config_error(
                        conn_id, "login", "must be the platform's app id when signing is set"
                    )
            given = dict(extra.get("callback") or {})
            paths = {
                **DEFAULT_CALLBACK,
                **{k: str(v) for k, v in given.items() if k not in {"delivered", "failed"}},
            }
            unknown = sorted(set(paths) - set(DEFAULT_CALLBACK))
            if unknown:
                raise config_error(conn_id, "extra.callback", f"has unknown keys {unknown}")
            callback = Callback(
                paths,
                tuple(scalar(v) for v in given.get("delivered", ["DELIVERED"])),
                tuple(scalar(v) for v in given.get("failed", ["FAILED"])),
            )
        return cls(
            name=name,
            provider=provider,
            secret=conn.password,
            allow=allow,
            trusted_proxies=networks("trusted_proxies"),
            app_id=conn.login or "",
            signing=signing,
            callback=callback,
        )

    # ------------------------------------------------------------------ authentication
    def client_address(self, peer: str, forwarded_for: str | None) -> str:
        if forwarded_for and self._within(peer, self.trusted_proxies):
            return forwarded_for.split(",")[-1].strip()
        return peer

    @staticmethod
    def _within(address: str, networks: tuple[Network, ...]) -> bool:
        try:
            ip = ipaddress.ip_address(address)
        except ValueError:
            return False
        return any(ip in n for n in networks)

    def authenticate(
        self,
        *,
        peer: str,
        forwarded_for: str | None,
        token: str | None,
        headers: Mapping[str, str],
        body: bytes,
        clock: Callable[[], float] = time.time,
    ) -> None:
        """Raises :class:`NotAllowed` unless the push comes from an allowed address with the
        receiver's token (or, for a signing platform, a valid fresh signature)."""
        if not self._within(self.client_address(peer, forwarded_for), self.allow):
            raise NotAllowed("this address may not push reports to this receiver")
        if self.signing is None:
            if not token or not hmac.compare_digest(token.encode(), self.secret.encode()):
                raise NotAllowed("the token is missing or not valid")
            return
        s = self.signing
        timestamp, nonce = headers.get(s.timestamp_header, ""), headers.get(s.nonce_header, "")
        if headers.get(s.app_id_header, "") != self.app_id or not timestamp.isdigit():
            raise NotAllowed(f"{s.app_id_header} or {s.timestamp_header} is missing or not valid")
        seconds = int(timestamp) / 1000 if s.timestamp_unit == "ms" else int(timestamp)
        if abs(clock() - seconds) > MAX_SKEW_SECONDS:
            raise NotAllowed(f"{s.timestamp_header} is more than {MAX_SKEW_SECONDS} seconds off")
        expected = hmac_signature(self.secret, self.app_id, timestamp, nonce, body, s.encoding)
        if not hmac.compare_digest(expected.encode(), headers.get(s.signature_header, "").encode()):
            raise NotAllowed("the signature does not match")

    # ------------------------------------------------------------------ formats
    def parse(self, doc: Any) -> list[Report]:
        if self.provider == "aliyun":
            return parse_aliyun(doc)
        if self.provider == "tencent":
            return parse_tencent(doc)
        assert self.callback is not None
        return parse_generic(doc, self.callback)


def _items(doc: Any, where: str = "the body") -> list[dict[str, Any]]:
    if not isinstance(doc, list) or not all(isinstance(i, dict) for i in doc):
        raise ReportInvalid(f"{where} must be a JSON array of report objects")
    if len(doc) > MAX_REPORTS:
        raise ReportInvalid(f"{where} holds {len(doc)} reports, more than {MAX_REPORTS}")
    return doc


def _text(item: Mapping[str, Any], key: str) -> str | None:
    value = item.get(key)
    return None if value in (None, "") else str(value)


def _identified(report: Report, index: int, out_key: str, id_key: str) -> Report:
    if not report.out_id and not report.provider_message_id:
        raise ReportInvalid(f"report {index}: neither {out_key!r} nor {id_key!r} names the message")
    if report.out_id and len(report.out_id) > 64 or len(report.provider_message_id or "") > 100:
        raise ReportInvalid(
            f"report {index}: {out_key!r} or {id_key!r} is too long to be a message id"
        )
    return report


def parse_aliyun(doc: Any) -> list[Report]:
    """SmsReport: ``[{"phone_number", "send_time", "report_time", "success", "err_code", "err_msg",
    "sms_size", "biz_id", "out_id"}, …]``."""
    reports = []
    for i, item in enumerate(_items(doc)):
        success = item.get("success")
        if isinstance(success, str) and success.lower() in {"true", "false"}:
            success = success.lower() == "true"
        if not isinstance(success, bool):
            raise ReportInvalid(f"report {i}: field 'success' must be true or false")
        reports.append(
            _identified(
                Report(
                    "aliyun",
                    _text(item, "out_id"),
                    _text(item, "biz_id"),
                    success,
                    _text(item, "err_code"),
                    mask_mobile(item.get("phone_number")),
                    _text(item, "report_time"),
                ),
                i,
                "out_id",
                "biz_id",
            )
        )
    return reports


def parse_tencent(doc: Any) -> list[Report]:
    """The status callback: ``[{"user_receive_time", "nationcode", "mobile", "report_status",
    "errmsg", "description", "sid", "ext"?}, …]``; ``ext`` echoes the SessionContext when present."""
    reports = []
    for i, item in enumerate(_items(doc)):
        status = item.get("report_status")
        if status not in {"SUCCESS", "FAIL"}:
            raise ReportInvalid(f"report {i}: field 'report_status' must be SUCCESS or FAIL")
        # the code is the status, as PullSmsSendStatus records it (errmsg's carrier code is not in
        # the pull): the same receipt row whichever way the report came
        reports.append(
            _identified(
                Report(
                    "tencent",
                    _text(item, "ext"),
                    _text(item, "sid"),
                    status == "SUCCESS",
                    status,
                    mask_mobile(item.get("mobile")),
                    _text(item, "user_receive_time"),
                ),
                i,
                "ext",
                "sid",
            )
        )
    return reports


def parse_generic(doc: Any, spec: Callback) -> list[Report]:
    p = spec.paths
    reports = []
    for i, item in enumerate(
        _items(get_path(doc, p["list_path"]), f"the body's {p['list_path']!r}")
    ):
        state = text_at(item, p["state"])
        if state not in spec.delivered and state not in spec.failed:
            raise ReportInvalid(
                f"report {i}: field {p['state']!r} is {state!r}, neither a delivered "
                f"{list(spec.delivered)} nor a failed {list(spec.failed)} state"
            )
        # the state is the code, as the status API's look-up records it: one receipt row either way
        reports.append(
            _identified(
                Report(
                    "generic",
                    text_at(item, p["out_id"]),
                    text_at(item, p["message_id"]),
                    state in spec.delivered,
                    state,
                    mask_mobile(get_path(item, p["mobile"])),
                    text_at(item, p["reported_at"]),
                ),
                i,
                p["out_id"],
                p["message_id"],
            )
        )
    return reports


# ---------------------------------------------------------------------- receivers by name
class Receivers:
    """Receivers by name, read from Airflow connections and kept ``CACHE_SECONDS``."""

    def __init__(
        self,
        lookup: Callable[[str], Any] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        from licence_reminder.db import get_airflow_connection

        self._lookup = lookup or get_airflow_connection
        self._clock = clock
        self._cache: dict[str, tuple[float, Receiver | None]] = {}
        self._lock = threading.Lock()

    def get(self, name: str) -> Receiver | None:
        now = self._clock()
        with self._lock:
            hit = self._cache.get(name)
        if hit and now - hit[0] < CACHE_SECONDS:
            return hit[1]
        try:
            conn = self._lookup(f"{CONN_PREFIX}{name}")
        except Exception:  # noqa: BLE001 - Airflow raises its own "not found": no such receiver
            receiver = None
        else:
            # a misconfigured receiver hears nothing; the reason goes to the log, not to the caller
            try:
                receiver = Receiver.from_connection(name, conn)
            except Exception as exc:  # noqa: BLE001 - PermanentError naming the field
                log.error("receiver %s is not usable: %s", name, exc)
                receiver = None
        with self._lock:
            self._cache[name] = (now, receiver)
        return receiver


# ---------------------------------------------------------------------- storing and applying
def store(
    engine: Engine, receiver: str, reports: list[Report], *, now: dt.datetime | None = None
) -> dict[str, int]:
    """Keeps every report not kept already; ``new`` and ``repeated`` (pushed before) counts."""
    now = now or local_now()
    new = 0
    with engine.begin() as conn:
        statement = sql("pushed_report_insert", conn)
        for r in {r.message_key: r for r in reports}.values():
            # one by one: the row count tells a new report from one pushed again
            new += (
                conn.execute(
                    statement,
                    {
                        "provider": r.provider,
                        "receiver": receiver,
                        "message_key": r.message_key,
                        "out_id": r.out_id,
                        "provider_message_id": r.provider_message_id,
                        "delivered": r.delivered,
                        "code": (r.code or "")[:100] or None,
                        "recipient_masked": r.recipient_masked,
                        "reported_at": (r.reported_at or "")[:32] or None,
                        "received_at": now,
                    },
                ).rowcount
                == 1
            )
    return {"new": new, "repeated": len(reports) - new}


def apply(
    engine: Engine,
    *,
    run_id: str,
    now: dt.datetime | None = None,
    window: dt.timedelta | None = None,
) -> dict[str, int]:
    """Applies the pending reports whose messages are recorded as sent; a report on a message
    settled already is a ``duplicate`` (no second receipt row); one whose message is still not
    sent after ``window`` (receipts.WINDOW) is ``unmatched``. The rest stay ``pending``."""
    from licence_reminder.gateways.base import LookupResult
    from licence_reminder.receipts import WINDOW, settle

    now = now or local_now()
    stale_before = now - (window or WINDOW)
    counts: Counter[str] = Counter()
    with engine.begin() as conn:
        rows = list(conn.execute(sql("pushed_reports_pending", conn)))
        marks: list[dict[str, Any]] = []
        applied_in: set[str] = set()
        for r in rows:
            if r.id is None or r.status in IN_FLIGHT:
                received = (
                    r.received_at
                    if isinstance(r.received_at, dt.datetime)
                    else dt.datetime.fromisoformat(str(r.received_at))
                )
                if received < stale_before:
                    marks.append(
                        {
                            "report_id": r.report_id,
                            "state": "unmatched",
                            "message_id": r.id,
                            "now": now,
                        }
                    )
                    counts["unmatched"] += 1
                else:
                    counts["pending"] += 1
                continue
            state = "duplicate"
            if r.status == "sent":
                report = LookupResult(True, bool(r.delivered), r.reported_id, r.code)
                settled = settle(conn, [(r, report, r.gateway)], run_id=run_id)
                if not settled.get("already_settled"):
                    state = "applied"
                    counts.update(settled)
                    applied_in.add(r.dept_code)
            if state == "duplicate":
                counts["duplicate"] += 1
            marks.append({"report_id": r.report_id, "state": state, "message_id": r.id, "now": now})
        if marks:
            conn.execute(sql("pushed_report_settle", conn), marks)
        figures.dispatch_changed(conn, applied_in)
    if counts.get("unmatched"):
        log.warning(
            "%d pushed reports name no message sent in the last %s: kept as unmatched",
            counts["unmatched"],
            window or WINDOW,
        )
    return dict(counts)
