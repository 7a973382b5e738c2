"""Gateway configuration from an Airflow connection, and the adapter it names.

Connection: ``login`` = access key id, ``password`` = secret; ``extra``: ``provider``
(``aliyun``), ``endpoint`` (base URL), ``sign_name``, ``timeout``, ``templates`` (product template
name → provider template code), ``max_param_length``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from licence_reminder.errors import PermanentError
from licence_reminder.gateways.base import SmsGateway

DEFAULT_ENDPOINTS = {"aliyun": "https://dysmsapi.aliyuncs.com/"}


@dataclass(frozen=True)
class GatewayConfig:
    conn_id: str
    provider: str
    endpoint: str
    login: str
    password: str = field(repr=False)
    sign_name: str
    timeout: float = 10.0
    templates: dict[str, str] = field(default_factory=dict)
    max_param_length: int | None = None

    @classmethod
    def from_connection(cls, conn: Any) -> GatewayConfig:
        extra = dict(conn.extra_dejson or {})
        provider = str(extra.get("provider", "")).lower()
        if provider not in DEFAULT_ENDPOINTS:
            raise PermanentError(f"connection {conn.conn_id!r}: field 'extra.provider' must be one of "
                                 f"{sorted(DEFAULT_ENDPOINTS)}, got {provider!r}")
        endpoint = extra.get("endpoint")
        if not endpoint and conn.host:
            scheme = extra.get("scheme", "https")
            endpoint = f"{scheme}://{conn.host}{':' + str(conn.port) if conn.port else ''}/{conn.schema or ''}"
        if not extra.get("sign_name"):
            raise PermanentError(f"connection {conn.conn_id!r}: field 'extra.sign_name' is required")
        if not conn.login or not conn.password:
            raise PermanentError(f"connection {conn.conn_id!r}: login (key id) and password (secret) are required")
        return cls(conn_id=conn.conn_id, provider=provider,
                   endpoint=endpoint or DEFAULT_ENDPOINTS[provider], login=conn.login,
                   password=conn.password, sign_name=extra["sign_name"],
                   timeout=float(extra.get("timeout", 10)), templates=dict(extra.get("templates") or {}),
                   max_param_length=extra.get("max_param_length"))


def gateway_from_config(cfg: GatewayConfig) -> SmsGateway:
    from licence_reminder.gateways.aliyun import AliyunSms

    return AliyunSms(endpoint=cfg.endpoint, access_key_id=cfg.login, access_key_secret=cfg.password,
                     sign_name=cfg.sign_name, timeout=cfg.timeout)
