"""Where alerts arrive in a test: a loopback SMTP server and a loopback DingTalk-style group robot
that checks each call's signature as DingTalk does. The ``alert_sinks`` fixture starts both and
points the settings' alert connections at them (registered in conftest)."""

from __future__ import annotations

import base64
import email
import hashlib
import hmac
import json
import socketserver
import threading
import time
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass, field
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

ROBOT_TOKEN = "test-robot-access-token"
ROBOT_SECRET = "SECtest-robot-signing-secret"
EMAIL_TO = ("ops@example.gov.cn", "duty@example.gov.cn")


class _SmtpHandler(socketserver.StreamRequestHandler):
    """The SMTP a client needs to hand over a message (RFC 5321, no TLS, no AUTH)."""

    def _say(self, line: str) -> None:
        self.wfile.write(f"{line}\r\n".encode())

    def handle(self) -> None:
        sink: SmtpSink = self.server.sink  # type: ignore[attr-defined]
        self._say("220 sink.test ESMTP")
        sender, rcpts = None, []
        while line := self.rfile.readline():
            verb = line.decode("ascii", "replace").strip().split(" ", 1)[0].upper()
            if verb == "EHLO":
                self._say("250-sink.test")
                self._say("250 8BITMIME")
            elif verb == "HELO":
                self._say("250 sink.test")
            elif verb == "MAIL":
                sender, rcpts = line.decode().split(":", 1)[1].strip(), []
                self._say("250 OK")
            elif verb == "RCPT":
                rcpts.append(line.decode().split(":", 1)[1].strip().strip("<>"))
                self._say("250 OK")
            elif verb == "DATA":
                self._say("354 end with <CRLF>.<CRLF>")
                data = []
                while (chunk := self.rfile.readline()) not in (b".\r\n", b""):
                    data.append(chunk[1:] if chunk.startswith(b"..") else chunk)
                sink.received.append((sender, rcpts, email.message_from_bytes(b"".join(data))))
                self._say("250 OK queued")
            elif verb == "QUIT":
                self._say("221 bye")
                return
            else:  # RSET, NOOP
                self._say("250 OK")


@dataclass
class SmtpSink:
    received: list[tuple[str | None, list[str], Message]] = field(default_factory=list)
    port: int = 0

    def subjects(self) -> list[str]:
        from email.header import decode_header, make_header

        return [str(make_header(decode_header(m["Subject"]))) for _, _, m in self.received]


class _RobotHandler(BaseHTTPRequestHandler):
    def log_message(self, *args: Any) -> None:
        pass

    def do_POST(self) -> None:
        robot: RobotSink = self.server.robot  # type: ignore[attr-defined]
        query = urllib.parse.parse_qs(urllib.parse.urlparse(self.path).query)
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        answer = robot.check(query, body)
        data = json.dumps(answer).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


@dataclass
class RobotSink:
    """Answers as DingTalk's robot does: errcode 0, or 310000 for a missing, stale or wrong sign."""

    received: list[dict[str, Any]] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)
    port: int = 0

    def check(self, query: dict[str, list[str]], body: dict[str, Any]) -> dict[str, Any]:
        if query.get("access_token") != [ROBOT_TOKEN]:
            self.refused.append("token")
            return {"errcode": 300001, "errmsg": "token is not exist"}
        stamp, sign = query.get("timestamp", [""])[0], query.get("sign", [""])[0]
        expected = base64.b64encode(
            hmac.new(
                ROBOT_SECRET.encode(), f"{stamp}\n{ROBOT_SECRET}".encode(), hashlib.sha256
            ).digest()
        ).decode()
        if (
            not stamp.isdigit()
            or abs(time.time() * 1000 - int(stamp)) > 3600_000
            or sign != expected
        ):
            self.refused.append("sign")
            return {"errcode": 310000, "errmsg": "sign not match"}
        self.received.append(body)
        return {"errcode": 0, "errmsg": "ok"}

    def titles(self) -> list[str]:
        return [b["markdown"]["title"] for b in self.received]


@dataclass
class AlertSinks:
    mail: SmtpSink
    robot: RobotSink

    def count(self) -> tuple[int, int]:
        return len(self.mail.received), len(self.robot.received)


@pytest.fixture
def alert_sinks(monkeypatch: pytest.MonkeyPatch) -> Iterator[AlertSinks]:
    mail, robot = SmtpSink(), RobotSink()
    smtp = socketserver.ThreadingTCPServer(("127.0.0.1", 0), _SmtpHandler)
    smtp.daemon_threads = True
    smtp.sink = mail  # type: ignore[attr-defined]
    http = ThreadingHTTPServer(("127.0.0.1", 0), _RobotHandler)
    http.robot = robot  # type: ignore[attr-defined]
    mail.port, robot.port = smtp.server_address[1], http.server_address[1]
    threads = [threading.Thread(target=s.serve_forever, daemon=True) for s in (smtp, http)]
    for t in threads:
        t.start()
    monkeypatch.setenv(
        "AIRFLOW_CONN_LR_ALERT_SMTP",
        json.dumps(
            {
                "conn_type": "smtp",
                "host": "127.0.0.1",
                "port": mail.port,
                "extra": {
                    "from_email": "licence-reminder@example.gov.cn",
                    "disable_ssl": True,
                    "disable_tls": True,
                    "timeout": 5,
                    "retry_limit": 0,
                },
            }
        ),
    )
    monkeypatch.setenv(
        "AIRFLOW_CONN_LR_ALERT_ROBOT",
        json.dumps(
            {
                "conn_type": "http",
                "host": f"http://127.0.0.1:{robot.port}/robot/send",
                "login": ROBOT_TOKEN,
                "password": ROBOT_SECRET,
                "extra": {"flavour": "dingtalk", "timeout": 5},
            }
        ),
    )
    monkeypatch.setenv("LR_ALERT_EMAIL_TO", ",".join(EMAIL_TO))
    monkeypatch.setenv("LR_ALERT_ROBOT_CONN_ID", "lr_alert_robot")
    yield AlertSinks(mail, robot)
    for s in (smtp, http):
        s.shutdown()
        s.server_close()
