"""Gateway connections: each provider's required fields, errors that name the connection and the
field, and secrets that stay out of reprs and messages."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest
from licence_reminder.errors import PermanentError
from licence_reminder.gateways.factory import GatewayConfig, gateway_from_config
from licence_reminder.simulator.server import airflow_connection

SECRET = "s3cr3t-value"


def connection(
    extra: dict[str, Any],
    *,
    login: str | None = "key-id",
    password: str | None = SECRET,
    host: str | None = None,
) -> SimpleNamespace:
    return SimpleNamespace(
        conn_id="sms_dept",
        extra_dejson=extra,
        login=login,
        password=password,
        host=host,
        port=None,
        schema=None,
    )


@pytest.mark.parametrize(
    ("provider", "adapter"),
    [("aliyun", "AliyunSms"), ("tencent", "TencentSms"), ("generic", "GenericHttpSms")],
)
def test_simulator_connections_build_their_adapter(provider: str, adapter: str) -> None:
    conn = airflow_connection(provider, "http://127.0.0.1:8765")
    cfg = GatewayConfig.from_connection(
        connection(conn["extra"], login=conn["login"], password=conn["password"])
    )
    gw = gateway_from_config(cfg)
    assert (cfg.provider, type(gw).__name__) == (provider, adapter)
    assert conn["password"] not in repr(cfg) and conn["password"] not in repr(gw)


def test_param_order_is_keyed_by_template_name_and_resolved_to_the_provider_code() -> None:
    cfg = GatewayConfig.from_connection(
        connection(
            {
                "provider": "tencent",
                "sign_name": "x",
                "sdk_app_id": "1400000000",
                "templates": {"sms_stage1": "1110001"},
                "param_order": {"sms_stage1": ["name", "days"]},
            }
        )
    )
    assert cfg.param_order == {"1110001": ("name", "days")}
    assert cfg.max_param_length is None and cfg.region == "ap-guangzhou"


TENCENT = {"provider": "tencent", "sign_name": "x", "sdk_app_id": "1400000000"}
GENERIC = {"provider": "generic", "sign_name": "x", "endpoint": "https://sms.gov.example/send"}


@pytest.mark.parametrize(
    ("extra", "login", "field"),
    [
        ({"sign_name": "x"}, "id", "extra.provider"),
        ({"provider": "wechat", "sign_name": "x"}, "id", "extra.provider"),
        ({"provider": "aliyun"}, "id", "extra.sign_name"),
        ({"provider": "aliyun", "sign_name": "x"}, None, "login"),
        ({"provider": "tencent", "sign_name": "x"}, "id", "extra.sdk_app_id"),
        ({**TENCENT, "sdk_app_id": "app"}, "id", "extra.sdk_app_id"),
        (
            {**TENCENT, "param_order": {"sms_stage1": "name,days"}},
            "id",
            "extra.param_order.sms_stage1",
        ),
        ({**TENCENT, "max_param_length": 0}, "id", "extra.max_param_length"),
        ({**TENCENT, "timeout": "soon"}, "id", "extra.timeout"),
        ({**TENCENT, "templates": ["sms_stage1"]}, "id", "extra.templates"),
        ({"provider": "generic", "sign_name": "x"}, "id", "extra.endpoint"),
        ({**GENERIC, "signing": {}}, None, "login"),
        ({**GENERIC, "fields": {"mobile": None}}, "id", "extra.fields.mobile"),
        ({**GENERIC, "fields": {"phone": "phone"}}, "id", "extra.fields.phone"),
        ({**GENERIC, "params_as": "csv"}, "id", "extra.params_as"),
        ({**GENERIC, "method": "GET"}, "id", "extra.method"),
        ({**GENERIC, "headers": {"Authorization": "Bearer x"}}, "id", "extra.headers"),
        ({**GENERIC, "signing": {"algo": "md5"}}, "id", "extra.signing"),
        ({**GENERIC, "status": {"state_path": "data.state"}}, "id", "extra.status.url"),
        (
            {**GENERIC, "fields": {"out_id": None}, "status": {"url": "https://sms.gov.example/q"}},
            "id",
            "extra.fields.out_id",
        ),
    ],
)
def test_errors_name_the_connection_and_the_field(
    extra: dict[str, Any], login: str | None, field: str
) -> None:
    with pytest.raises(PermanentError) as err:
        GatewayConfig.from_connection(connection(extra, login=login))
    assert f"connection 'sms_dept': field {field!r}" in str(err.value)
    assert SECRET not in str(err.value)


def test_missing_secret_is_named_not_shown() -> None:
    with pytest.raises(PermanentError, match="field 'password' is required \\(the SecretKey\\)"):
        GatewayConfig.from_connection(connection(TENCENT, password=None))


def test_generic_platform_without_signing_needs_no_credentials() -> None:
    cfg = GatewayConfig.from_connection(connection(GENERIC, login=None, password=None))
    assert cfg.generic is not None and cfg.generic.signing is None and cfg.generic.status is None


def test_endpoint_from_host_when_extra_has_none() -> None:
    cfg = GatewayConfig.from_connection(
        connection({**GENERIC, "endpoint": None}, host="sms.gov.example")
    )
    assert cfg.endpoint == "https://sms.gov.example/"


def test_readme_connection_examples_are_what_the_simulator_prints_and_are_valid() -> None:
    import json
    import re
    from pathlib import Path

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    examples = re.findall(
        r"^# (\w+)\nexport AIRFLOW_CONN_SMS_GATEWAY='(\{.*?\n\})'$",
        readme,
        re.MULTILINE | re.DOTALL,
    )
    assert [provider for provider, _ in examples] == ["aliyun", "tencent", "generic"]
    for provider, text in examples:
        conn = json.loads(text)
        assert conn == airflow_connection(provider, "http://127.0.0.1:8765")
        GatewayConfig.from_connection(
            connection(conn["extra"], login=conn["login"], password=conn["password"])
        )
