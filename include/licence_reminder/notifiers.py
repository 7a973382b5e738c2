"""Where alerts go: Airflow notifiers, built from the settings' connection ids.

- e-mail: the SMTP provider's :class:`SmtpNotifier` (its connection: server, login, ``from_email``);
- a group robot: :class:`RobotNotifier`, DingTalk's custom robot with its signature ("加签"), or
  WeCom's group robot (key in the URL; WeCom robots have no signature).

Alert texts are ours and carry no personal data (``alerts``); they are sent as they are, never
rendered as templates: a sync error may contain ``{{``.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import html
import time
import urllib.parse
from dataclasses import dataclass
from typing import Any

from airflow.sdk.bases.notifier import BaseNotifier

from licence_reminder.errors import PermanentError, TransientError

ROBOT_FLAVOURS = ("dingtalk", "wecom")


def dingtalk_sign(secret: str, timestamp_ms: int) -> str:
    """DingTalk's signature of a robot call: base64(HMAC-SHA256(secret, "<timestamp>\\n<secret>")),
    sent URL-encoded as the ``sign`` query parameter beside ``timestamp`` (milliseconds)."""
    digest = hmac.new(
        secret.encode("utf-8"), f"{timestamp_ms}\n{secret}".encode(), hashlib.sha256
    ).digest()
    return base64.b64encode(digest).decode("ascii")


@dataclass(frozen=True)
class RobotConfig:
    """A robot's Airflow connection: ``host`` its webhook address (e.g.
    ``https://oapi.dingtalk.com/robot/send``), ``login`` the access token (DingTalk) or key (WeCom),
    ``password`` DingTalk's signing secret, ``extra.flavour`` ``dingtalk`` (default) or ``wecom``."""

    conn_id: str
    url: str
    token: str
    secret: str | None
    flavour: str
    timeout: float

    @classmethod
    def from_connection(cls, conn: Any) -> RobotConfig:
        extra = conn.extra_dejson or {}
        flavour = str(extra.get("flavour", "dingtalk")).lower()
        host = (conn.host or "").strip()
        problems = []
        if flavour not in ROBOT_FLAVOURS:
            problems.append(f"extra.flavour is {flavour!r}, not one of {', '.join(ROBOT_FLAVOURS)}")
        if not host:
            problems.append("host (the webhook address) is empty")
        if not conn.login:
            problems.append("login (the robot's access token or key) is empty")
        if flavour == "dingtalk" and not conn.password:
            problems.append("password (the robot's signing secret, 加签) is empty")
        if problems:
            raise PermanentError(f"alert robot connection {conn.conn_id!r}: " + "; ".join(problems))
        if "://" not in host:
            host = f"{conn.schema or 'https'}://{host}{f':{conn.port}' if conn.port else ''}"
        return cls(
            conn_id=conn.conn_id,
            url=host,
            token=conn.login,
            secret=conn.password or None,
            flavour=flavour,
            timeout=float(extra.get("timeout", 10)),
        )

    def request(
        self, title: str, text: str, *, now_ms: int | None = None
    ) -> tuple[str, dict[str, Any]]:
        """The address to post to and the JSON body (markdown) of one alert."""
        if self.flavour == "wecom":
            query = {"key": self.token}
            body: dict[str, Any] = {
                "msgtype": "markdown",
                "markdown": {"content": f"**{title}**\n\n{text}"},
            }
        else:
            stamp = now_ms if now_ms is not None else int(time.time() * 1000)
            query = {"access_token": self.token, "timestamp": str(stamp)}
            if self.secret:
                query["sign"] = dingtalk_sign(self.secret, stamp)
            body = {
                "msgtype": "markdown",
                "markdown": {"title": title, "text": f"### {title}\n\n{text}"},
            }
        return f"{self.url}?{urllib.parse.urlencode(query)}", body


class RobotNotifier(BaseNotifier):
    """Posts an alert to a DingTalk or WeCom group robot (:class:`RobotConfig`)."""

    template_fields = ()

    def __init__(self, *, conn_id: str, title: str, text: str) -> None:
        super().__init__()
        self.conn_id, self.title, self.text = conn_id, title, text

    def notify(self, context: Any) -> None:
        import requests

        from licence_reminder.db import get_airflow_connection

        cfg = RobotConfig.from_connection(get_airflow_connection(self.conn_id))
        url, body = cfg.request(self.title, self.text)
        where = (
            f"alert robot {cfg.conn_id!r} ({cfg.flavour})"  # never the URL: it carries the token
        )
        try:
            response = requests.post(url, json=body, timeout=cfg.timeout)
        except requests.RequestException as exc:
            raise TransientError(f"{where}: {type(exc).__name__}") from None
        if response.status_code >= 500 or response.status_code == 429:
            raise TransientError(f"{where}: HTTP {response.status_code}")
        try:
            answer = response.json()
        except ValueError:
            raise PermanentError(
                f"{where}: HTTP {response.status_code}, not a robot's JSON answer"
            ) from None
        if response.status_code != 200 or answer.get("errcode") != 0:
            raise PermanentError(
                f"{where}: refused, HTTP {response.status_code}, errcode "
                f"{answer.get('errcode')}: {str(answer.get('errmsg'))[:200]}"
            )


def email_notifier(conn_id: str, to: tuple[str, ...], title: str, text: str) -> BaseNotifier:
    """The SMTP provider's notifier for one alert; the sender address from the connection's
    ``extra.from_email``."""
    from airflow.providers.smtp.notifications.smtp import SmtpNotifier

    content = f"<p>{html.escape(text).replace(chr(10), '<br>')}</p>"
    return SmtpNotifier(to=list(to), subject=title, html_content=content, smtp_conn_id=conn_id)


def notifiers_for(settings: Any, title: str, text: str) -> list[tuple[str, BaseNotifier]]:
    """(where, notifier) for every channel the settings configure."""
    out: list[tuple[str, BaseNotifier]] = []
    if settings.alert_email_to:
        out.append(
            (
                f"email:{settings.alert_smtp_conn_id}",
                email_notifier(settings.alert_smtp_conn_id, settings.alert_email_to, title, text),
            )
        )
    if settings.alert_robot_conn_id:
        out.append(
            (
                f"robot:{settings.alert_robot_conn_id}",
                RobotNotifier(conn_id=settings.alert_robot_conn_id, title=title, text=text),
            )
        )
    return out
