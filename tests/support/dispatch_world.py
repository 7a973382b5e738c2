"""The dispatch's world for tests: a ledger and a source (MariaDB or SQLite), the SMS
simulator, gateways built from its connections as the send task builds them, and a department
planned and rendered up to its outbox. The ``setup`` fixture is registered in conftest."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest
from licence_reminder import dispatch
from licence_reminder.gateways.base import SmsGateway
from licence_reminder.gateways.factory import GatewayConfig, gateway_from_config
from licence_reminder.registry import Catalogue
from licence_reminder.sync import plan as planning

from support.ledger_world import (
    CATALOGUE,
    DEPT,
    TODAY,
    create_source_table,
    licence,
    put,
    q,
    run_sync,
)

PROVIDERS = ["aliyun", "tencent", "generic"]


@pytest.fixture(params=["mariadb", "sqlite"])
def setup(request, tmp_path):  # type: ignore[no-untyped-def]
    from licence_reminder import schema
    from licence_reminder.db import engine_from_url
    from licence_reminder.simulator.server import start_in_thread

    if request.param == "mariadb":  # the outcome batches are dialect-specific SQL: both run
        factory = request.getfixturevalue("mariadb_factory")
        ledger, source = engine_from_url(factory()), engine_from_url(factory())
    else:
        ledger, source = (
            engine_from_url(f"sqlite:///{tmp_path}/ledger.db"),
            engine_from_url(f"sqlite:///{tmp_path}/src.db"),
        )
    schema.upgrade(ledger)
    create_source_table(source)
    sim = start_in_thread()
    gateways: list[SmsGateway] = []
    yield ledger, source, sim, gateways
    for gw in gateways:
        gw.close()
    sim.stop()
    ledger.dispose()
    source.dispose()


@pytest.fixture
def second_sim():  # type: ignore[no-untyped-def]
    """Another simulator: a second provider that fails (or not) on its own."""
    from licence_reminder.simulator.server import start_in_thread

    sim = start_in_thread()
    yield sim
    sim.stop()


def gateway(
    setup,
    provider: str,
    *,
    drop: tuple[str, ...] = (),
    sim: Any = None,
    conn_id: str | None = None,  # type: ignore[no-untyped-def]
    **overrides: Any,
):
    """The simulator's connection for ``provider`` (``sim``: another simulator's; ``conn_id``: by
    default ``sms_<provider>``); ``login``/``password`` or extra keys overridden."""
    _, _, default_sim, gateways = setup
    conn = (sim or default_sim).connection(provider)
    extra = {**conn["extra"], "timeout": 1.0}
    for key, value in overrides.items():
        if key in {"login", "password"}:
            conn[key] = value
        else:
            extra[key] = value
    for key in drop:
        extra.pop(key)
    cfg = GatewayConfig.from_connection(
        SimpleNamespace(
            conn_id=conn_id or f"sms_{provider}",
            login=conn["login"],
            password=conn["password"],
            extra_dejson=extra,
            host=None,
            port=None,
            schema=None,
        )
    )
    gw = gateway_from_config(cfg)
    gateways.append(gw)
    return cfg, gw


# The department's catalogue as it would be sent for approval: licence numbers shown, the link to
# the entry's published page in the text
PAGES = "https://zwfw.example.gov.cn/tx"
NUMBERED = CATALOGUE.model_copy(
    update={
        "entries": [
            e.model_copy(
                update={
                    "code": "spjy",
                    "licence_no_digits": 4,
                    "sms_consequences": "逾期经营属无证经营。",
                }
            )
            for e in CATALOGUE.entries
        ]
    }
)


def approve(setup, provider: str, catalogue: Catalogue) -> None:  # type: ignore[no-untyped-def]
    """The simulator approves the catalogue's templates as `catalogue templates` prints them."""
    from licence_reminder.catalogue_check import describe, documented_gateways

    _, _, sim, _ = setup
    items = describe(
        catalogue, catalogue_url=PAGES, today=TODAY, gateways=documented_gateways([provider])
    )
    sim.approve(provider, {i["name"]: i["texts"][provider] for i in items})


def prepare(
    setup,
    cfg: GatewayConfig,
    *nos: str,
    catalogue: Catalogue | None = None,  # type: ignore[no-untyped-def]
    **licence_fields: Any,
) -> dict[str, Any]:

    ledger, source, _, _ = setup
    planning.register_department(ledger, DEPT, catalogue or CATALOGUE)
    put(source, *(licence(no, 30, **licence_fields) for no in nos))
    run_sync(ledger, source)
    dispatch.plan(ledger, today=TODAY, run_id="d1")
    profile = dispatch.GatewayProfile.of(cfg)
    return dispatch.render_outbox(
        ledger, today=TODAY, run_id="d1", profile_for=lambda _: profile, catalogue_url=PAGES
    )


def send(ledger, gw, **kw) -> dict:  # type: ignore[no-untyped-def]
    return dispatch.send_shard(
        ledger, lambda _: gw, shard=0, run_id="d1", max_wait_seconds=kw.pop("wait", 0), **kw
    )


def attempts(ledger) -> list[tuple[str, str]]:  # type: ignore[no-untyped-def]
    return [
        (r.kind, r.outcome)
        for r in q(ledger, "SELECT kind, outcome FROM delivery_attempt ORDER BY id")
    ]
