"""Gateway configuration from an Airflow connection, and the adapter it names.

Credentials come only from the connection's ``login`` and ``password``; ``extra`` holds the rest
(README "SMS gateways" lists every key). Common to all providers: ``provider`` (``aliyun``,
``tencent``, ``generic``), ``endpoint`` (or the connection's host/port/schema), ``sign_name``,
``timeout``, ``templates`` (product template name ``<department>.<entry code>.stage<n>`` →
provider template code), ``param_order`` (product template name → variable names in the provider
template's order; by default the order they appear in the template), ``max_param_length`` and
``variable_caps`` (the longest value of every / of one variable the account takes).
Tencent adds ``sdk_app_id`` and ``region``; a generic platform its protocol (``generic.py``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from licence_reminder.gateways.base import SmsGateway
from licence_reminder.gateways.common import config_error
from licence_reminder.gateways.generic import GenericSpec

DEFAULT_ENDPOINTS = {
    "aliyun": "https://dysmsapi.aliyuncs.com/",
    "tencent": "https://sms.tencentcloudapi.com/",
    "generic": None,
}
#: what login and password are called by each provider, for error messages
CREDENTIALS = {
    "aliyun": ("AccessKey ID", "AccessKey secret"),
    "tencent": ("SecretId", "SecretKey"),
    "generic": ("app id", "signing secret"),
}


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
    #: provider template code → variable names in that template's order
    param_order: dict[str, tuple[str, ...]] = field(default_factory=dict)
    sdk_app_id: str | None = None
    region: str | None = None
    generic: GenericSpec | None = None
    #: variable name → the longest value this account takes, below the provider's documented cap
    variable_caps: dict[str, int] = field(default_factory=dict)

    @classmethod
    def from_connection(cls, conn: Any) -> GatewayConfig:
        conn_id = conn.conn_id
        extra = dict(conn.extra_dejson or {})
        provider = str(extra.get("provider", "")).lower()
        if provider not in DEFAULT_ENDPOINTS:
            raise config_error(
                conn_id,
                "extra.provider",
                f"must be one of {sorted(DEFAULT_ENDPOINTS)}, got {provider!r}",
            )
        endpoint = extra.get("endpoint")
        if not endpoint and conn.host:
            scheme = extra.get("scheme", "https")
            endpoint = f"{scheme}://{conn.host}{':' + str(conn.port) if conn.port else ''}/{conn.schema or ''}"
        endpoint = endpoint or DEFAULT_ENDPOINTS[provider]
        if not endpoint:
            raise config_error(conn_id, "extra.endpoint", f"is required for provider {provider!r}")
        if not extra.get("sign_name"):
            raise config_error(conn_id, "extra.sign_name", "is required")
        templates = _str_mapping(conn_id, "extra.templates", extra.get("templates") or {})
        generic = (
            GenericSpec.from_extra(conn_id, extra, endpoint) if provider == "generic" else None
        )
        # a generic platform that does not sign requests needs no credentials at all
        if provider != "generic" or generic and generic.signing:
            key_id, secret = CREDENTIALS[provider]
            if not conn.login:
                raise config_error(conn_id, "login", f"is required (the {key_id})")
            if not conn.password:
                raise config_error(conn_id, "password", f"is required (the {secret})")
        sdk_app_id = None
        if provider == "tencent":
            sdk_app_id = str(extra.get("sdk_app_id") or "")
            if not sdk_app_id.isdigit():
                raise config_error(
                    conn_id,
                    "extra.sdk_app_id",
                    "is required: the SMS application's SdkAppId (digits)",
                )
        return cls(
            conn_id=conn_id,
            provider=provider,
            endpoint=endpoint,
            login=conn.login or "",
            password=conn.password or "",
            sign_name=str(extra["sign_name"]),
            timeout=_positive(conn_id, "extra.timeout", extra.get("timeout", 10), float),
            templates=templates,
            max_param_length=None
            if extra.get("max_param_length") is None
            else _positive(conn_id, "extra.max_param_length", extra["max_param_length"], int),
            param_order=_param_order(conn_id, extra.get("param_order") or {}, templates),
            sdk_app_id=sdk_app_id,
            region=str(extra.get("region", "ap-guangzhou")) if provider == "tencent" else None,
            generic=generic,
            variable_caps=_variable_caps(conn_id, extra.get("variable_caps") or {}),
        )


def _variable_caps(conn_id: str, value: Any) -> dict[str, int]:
    from licence_reminder.sms_templates import VARIABLES

    if not isinstance(value, dict):
        raise config_error(
            conn_id, "extra.variable_caps", "must be an object of variable names to lengths"
        )
    unknown = sorted(set(value) - set(VARIABLES))
    if unknown:
        raise config_error(
            conn_id,
            "extra.variable_caps",
            f"names unknown variable(s) {unknown}; the variables are {sorted(VARIABLES)}",
        )
    return {
        name: _positive(conn_id, f"extra.variable_caps.{name}", cap, int)
        for name, cap in value.items()
    }


def _str_mapping(conn_id: str, name: str, value: Any) -> dict[str, str]:
    if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
        raise config_error(conn_id, name, "must be an object of names to strings")
    return dict(value)


def _positive(conn_id: str, name: str, value: Any, kind: type[int | float]) -> Any:
    try:
        number = kind(value)
    except (TypeError, ValueError):
        number = 0
    if number <= 0 or kind is int and number != value:
        raise config_error(conn_id, name, f"must be a positive {kind.__name__}")
    return number


def _param_order(
    conn_id: str, value: Any, templates: Mapping[str, str]
) -> dict[str, tuple[str, ...]]:
    """Keyed like ``templates`` (by product template name), resolved to the provider's code."""
    if not isinstance(value, dict):
        raise config_error(conn_id, "extra.param_order", "must be an object")
    order = {}
    for name, names in value.items():
        if (
            not isinstance(names, list)
            or not names
            or not all(isinstance(n, str) for n in names)
            or len(set(names)) != len(names)
        ):
            raise config_error(
                conn_id, f"extra.param_order.{name}", "must be a list of distinct variable names"
            )
        order[templates.get(name, name)] = tuple(names)
    return order


def gateway_from_config(cfg: GatewayConfig) -> SmsGateway:
    if cfg.provider == "aliyun":
        from licence_reminder.gateways.aliyun import AliyunSms

        return AliyunSms(
            endpoint=cfg.endpoint,
            access_key_id=cfg.login,
            access_key_secret=cfg.password,
            sign_name=cfg.sign_name,
            timeout=cfg.timeout,
        )
    if cfg.provider == "tencent":
        from licence_reminder.gateways.tencent import TencentSms

        assert cfg.sdk_app_id and cfg.region
        return TencentSms(
            endpoint=cfg.endpoint,
            secret_id=cfg.login,
            secret_key=cfg.password,
            sdk_app_id=cfg.sdk_app_id,
            region=cfg.region,
            sign_name=cfg.sign_name,
            timeout=cfg.timeout,
            param_order=cfg.param_order,
        )
    from licence_reminder.gateways.generic import GenericHttpSms

    assert cfg.generic
    return GenericHttpSms(
        cfg.generic,
        sign_name=cfg.sign_name,
        app_id=cfg.login,
        secret=cfg.password,
        timeout=cfg.timeout,
        param_order=cfg.param_order,
    )
