"""What every HTTP adapter needs alike: reading a failed call, ordering template variables."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import requests

from licence_reminder.errors import PermanentError
from licence_reminder.gateways.base import Outcome, SendResult


def config_error(conn_id: str, field: str, problem: str) -> PermanentError:
    """A connection that cannot work: names the connection and the field, never a value."""
    return PermanentError(f"connection {conn_id!r}: field {field!r} {problem}")


def transport_failure(exc: requests.Timeout | requests.ConnectionError) -> SendResult:
    """A call that got no reply. Once the request may have left, only a lookup can tell."""
    if isinstance(exc, requests.ConnectTimeout):
        return SendResult(Outcome.TRANSIENT, "CONNECT_TIMEOUT", "connect timeout")
    if isinstance(exc, requests.Timeout):
        return SendResult(Outcome.TRANSIENT, "TIMEOUT", "read timeout", ambiguous=True)
    sent = "Connection aborted" in str(exc) or "RemoteDisconnected" in str(exc)
    return SendResult(Outcome.TRANSIENT, "CONNECTION_ERROR", type(exc).__name__, ambiguous=sent)


def json_reply(resp: requests.Response) -> tuple[Any, SendResult | None]:
    """The reply's JSON, or why there is none worth reading (a 5xx or a body that is not JSON)."""
    if resp.status_code >= 500:
        return None, SendResult(
            Outcome.TRANSIENT,
            f"HTTP_{resp.status_code}",
            resp.reason or "",
            http_status=resp.status_code,
        )
    try:
        return resp.json(), None
    except ValueError:
        return None, SendResult(
            Outcome.TRANSIENT,
            f"HTTP_{resp.status_code}",
            "reply is not JSON",
            http_status=resp.status_code,
        )


class TemplateVariablesMismatch(ValueError):
    """The message's variables are not the ones the template declares: no call is made."""


def ordered_values(params: Mapping[str, str], order: Sequence[str] | None) -> list[str]:
    """Template variables as the positional list a provider expects.

    Without a declared order the params' own order is used (``render.message_params`` builds them in
    template order). With one, the names must match exactly: a variable the template lacks would
    silently vanish from the delivered text while the audited text still shows it.
    """
    if order is None:
        return list(params.values())
    missing = [k for k in order if k not in params]
    extra = [k for k in params if k not in order]
    if missing or extra:
        raise TemplateVariablesMismatch(
            f"template variables differ from the declared order: missing {missing}, undeclared {extra}"
        )
    return [params[k] for k in order]


def mismatch_result(exc: TemplateVariablesMismatch) -> SendResult:
    return SendResult(Outcome.PERMANENT, "TEMPLATE_VARIABLES_MISMATCH", str(exc))
