"""Who may call the channels API: one Airflow connection per caller, its token the password.

A caller (the mini-program's back end, a department's business system) is given a token of the
form ``<client id>.<secret>`` and sends it as ``Authorization: Bearer <token>``. The client id
names the connection ``lr_client_<client id>``: its password is the secret (compared in constant
time) and its ``extra.scopes`` what the caller may do: ``consents`` (the consent intake) and
``prompts:<department>`` (that department's prompt feed). A token is withdrawn by changing or
deleting the connection; connections are read again after ``CACHE_SECONDS``.
"""

from __future__ import annotations

import hmac
import re
import threading
import time
from dataclasses import dataclass
from typing import Any

CONN_PREFIX = "lr_client_"
CACHE_SECONDS = 60.0
_TOKEN = re.compile(r"^(?P<client>[a-z0-9_]{2,40})\.(?P<secret>[!-~]{16,200})$")


class NotAuthenticated(Exception):
    """No token, or one that is not a caller's (the same answer whatever is wrong with it)."""


class NotAllowed(Exception):
    """A known caller without the scope for this request."""


@dataclass(frozen=True)
class Client:
    client_id: str
    scopes: frozenset[str]

    def require(self, scope: str) -> None:
        if scope not in self.scopes:
            raise NotAllowed(f"client {self.client_id!r} may not use {scope!r}")


class Clients:
    """Callers by client id, read from Airflow connections and kept ``CACHE_SECONDS``."""

    def __init__(self, lookup: Any | None = None, clock: Any = time.monotonic) -> None:
        from licence_reminder.db import get_airflow_connection

        self._lookup = lookup or get_airflow_connection
        self._clock = clock
        self._cache: dict[str, tuple[float, tuple[str, frozenset[str]] | None]] = {}
        self._lock = threading.Lock()

    def _entry(self, client_id: str) -> tuple[str, frozenset[str]] | None:
        now = self._clock()
        with self._lock:
            hit = self._cache.get(client_id)
        if hit and now - hit[0] < CACHE_SECONDS:
            return hit[1]
        try:
            conn = self._lookup(f"{CONN_PREFIX}{client_id}")
        except Exception:  # noqa: BLE001 - Airflow raises its own "not found"; any failure: no such caller
            entry = None
        else:
            scopes = (conn.extra_dejson or {}).get("scopes") or []
            entry = (conn.password, frozenset(str(s) for s in scopes)) if conn.password else None
        with self._lock:
            self._cache[client_id] = (now, entry)
        return entry

    def authenticate(self, authorization: str | None) -> Client:
        scheme, _, token = (authorization or "").partition(" ")
        match = _TOKEN.fullmatch(token.strip()) if scheme.lower() == "bearer" else None
        if not match:
            raise NotAuthenticated("send Authorization: Bearer <client id>.<secret>")
        entry = self._entry(match["client"])
        if entry is None or not hmac.compare_digest(entry[0].encode(), match["secret"].encode()):
            raise NotAuthenticated("the token is not valid")
        return Client(match["client"], entry[1])
