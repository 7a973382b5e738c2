"""The channels API (consent intake, prompt feed) through its FastAPI app, on MariaDB and SQLite:
tokens from Airflow connections, 401/403, idempotent intake and acknowledgement, cursor paging,
audit rows."""

from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient
from support.channels import OPENIDS, catalogue_with
from support.ledger_world import DEPT, TODAY, licence, plan_day, put, q, run_sync

SECRET = "s3cret-for-the-tests-only-0001"
TOKENS = {"miniapp": f"miniapp.{SECRET}", "biz": f"biz.{SECRET}", "other": f"other.{SECRET}"}


@pytest.fixture
def api(engines, monkeypatch):  # type: ignore[no-untyped-def]
    from licence_reminder.channels.api import create_app
    from licence_reminder.channels.clients import Clients
    from licence_reminder.sync import plan as planning

    ledger, source = engines
    for client, scopes in (
        ("miniapp", ["consents"]),
        ("biz", [f"prompts:{DEPT.code}"]),
        ("other", ["prompts:jtysj"]),
    ):
        monkeypatch.setenv(
            f"AIRFLOW_CONN_LR_CLIENT_{client.upper()}",
            json.dumps({"conn_type": "generic", "password": SECRET, "extra": {"scopes": scopes}}),
        )
    planning.register_department(ledger, DEPT, catalogue_with(["sms", "prompt"], ["sms"]))
    put(source, *(licence(f"L{i:04d}", 30) for i in range(1, 6)))
    run_sync(ledger, source)
    return TestClient(create_app(Clients(), ledger)), ledger


def auth(who: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {TOKENS[who]}"}


def write_prompts(ledger) -> None:  # type: ignore[no-untyped-def]
    from licence_reminder.channels.render import render_channels

    plan_day(ledger, TODAY)

    def no_wechat():  # type: ignore[no-untyped-def]
        raise AssertionError("this policy names no mini-program")

    render_channels(ledger, today=TODAY, run_id="dispatch:test", wechat=no_wechat)


@pytest.mark.mariadb
@pytest.mark.parametrize(
    ("headers", "status"),
    [
        pytest.param({}, 401, id="no-token"),
        pytest.param({"Authorization": "Basic eDp5"}, 401, id="not-bearer"),
        pytest.param({"Authorization": "Bearer biz"}, 401, id="malformed"),
        pytest.param(
            {"Authorization": "Bearer biz.wrong-secret-000000000"}, 401, id="wrong-secret"
        ),
        pytest.param({"Authorization": f"Bearer nobody.{SECRET}"}, 401, id="unknown-client"),
        pytest.param(auth("other"), 403, id="another-departments-token"),
        pytest.param(auth("miniapp"), 403, id="the-intakes-token"),
        pytest.param(auth("biz"), 200, id="the-departments-token"),
    ],
)
def test_the_prompt_feed_takes_only_the_departments_token(api, headers, status) -> None:  # type: ignore[no-untyped-def]
    client, _ = api
    for request in (
        lambda: client.get(f"/v1/departments/{DEPT.code}/prompts", headers=headers),
        lambda: client.post(
            f"/v1/departments/{DEPT.code}/prompts/ack", headers=headers, json={"ids": ["0" * 32]}
        ),
    ):
        resp = request()
        assert resp.status_code == status, resp.text
        if status == 401:
            assert resp.headers["www-authenticate"] == "Bearer" and SECRET not in resp.text


@pytest.mark.mariadb
def test_cursor_paging_acknowledgement_and_audit(api) -> None:  # type: ignore[no-untyped-def]
    client, ledger = api
    write_prompts(ledger)
    seen, cursor, pages = [], "0", 0
    while True:
        resp = client.get(
            f"/v1/departments/{DEPT.code}/prompts",
            params={"cursor": cursor, "limit": 2},
            headers=auth("biz"),
        ).json()
        pages += 1
        seen += resp["prompts"]
        cursor = resp["next_cursor"]
        if not resp["has_more"]:
            break
    assert pages == 3 and sorted(p["licence_no"] for p in seen) == [
        f"L{i:04d}" for i in range(1, 6)
    ]
    assert all(
        p["status"] == "open" and "2026年" in p["body"] and "还有" not in p["body"] for p in seen
    )
    assert [p["feed_seq"] for p in seen] == sorted(p["feed_seq"] for p in seen)
    # nothing new after the last cursor
    assert client.get(
        f"/v1/departments/{DEPT.code}/prompts", params={"cursor": cursor}, headers=auth("biz")
    ).json() == {"prompts": [], "next_cursor": cursor, "has_more": False}

    first = seen[0]["id"]
    body = {"ids": [first, "f" * 32], "acknowledged_by": "window 3"}
    once = client.post(
        f"/v1/departments/{DEPT.code}/prompts/ack", json=body, headers=auth("biz")
    ).json()
    again = client.post(
        f"/v1/departments/{DEPT.code}/prompts/ack", json=body, headers=auth("biz")
    ).json()
    expected = [
        {"id": first, "status": "acknowledged", "acknowledged": True},
        {"id": "f" * 32, "status": "not_found", "acknowledged": False},
    ]
    assert once == {"results": expected} and again == once
    # the change comes back on the feed, after the cursor the system kept
    changed = client.get(
        f"/v1/departments/{DEPT.code}/prompts", params={"cursor": cursor}, headers=auth("biz")
    ).json()["prompts"]
    assert [(p["id"], p["status"]) for p in changed] == [(first, "acknowledged")]
    # audit: each prompt served once (the first fetch), one acknowledgement; the reminder delivered
    log = q(
        ledger,
        "SELECT kind, outcome, channel, COUNT(*) AS n FROM v_delivery_log GROUP BY kind, outcome, channel",
    )
    assert {(r.kind, r.outcome, r.channel): r.n for r in log} == {
        ("pull", "served", "prompt"): 5,
        ("ack", "acknowledged", "prompt"): 1,
    }
    (reminder,) = q(
        ledger,
        "SELECT r.status FROM reminder r JOIN business_prompt p ON p.reminder_id = r.id "
        "WHERE p.id = :id",
        id=first,
    )
    assert reminder.status == "delivered"
    # another department's system cannot acknowledge it, even by id
    assert (
        client.post("/v1/departments/jtysj/prompts/ack", json=body, headers=auth("other")).json()[
            "results"
        ][0]["status"]
        == "not_found"
    )


@pytest.mark.mariadb
def test_prompts_are_withdrawn_when_the_holder_applies_and_expire_unacknowledged(api) -> None:  # type: ignore[no-untyped-def]
    import datetime as dt

    from licence_reminder.channels.render import render_channels

    client, ledger = api
    write_prompts(ledger)
    with ledger.begin() as conn:
        # as a sync records an application (it sets the planner's next check back too)
        conn.exec_driver_sql(
            "UPDATE ledger SET renewal_applied_on = expiry_date, next_check_on = NULL "
            "WHERE licence_no = 'L0001'"
        )
    later = TODAY + dt.timedelta(days=1)
    plan_day(ledger, later)
    render_channels(ledger, today=later, run_id="dispatch:later", wechat=lambda: None)  # type: ignore[arg-type,return-value]
    expired = TODAY + dt.timedelta(days=31)
    render_channels(ledger, today=expired, run_id="dispatch:expired", wechat=lambda: None)  # type: ignore[arg-type,return-value]
    states = {
        r.licence_no: (r.status, r.closed_reason)
        for r in q(ledger, "SELECT licence_no, status, closed_reason FROM business_prompt")
    }
    assert states["L0001"] == ("withdrawn", "reminder cancelled: renewal application received")
    assert {s for n, (s, _) in states.items() if n != "L0001"} == {"expired"}
    reasons = {
        r.status_reason
        for r in q(
            ledger,
            "SELECT status_reason FROM reminder WHERE channel = 'prompt' AND licence_no <> 'L0001'",
        )
    }
    assert reasons == {"in-system prompt not acknowledged before expiry"}
    statuses = {
        p["licence_no"]: p["status"]
        for p in client.get(f"/v1/departments/{DEPT.code}/prompts", headers=auth("biz")).json()[
            "prompts"
        ]
    }
    assert statuses["L0001"] == "withdrawn" and statuses["L0002"] == "expired"


@pytest.mark.mariadb
def test_consent_intake_is_idempotent_validated_and_revocable(api) -> None:  # type: ignore[no-untyped-def]
    client, ledger = api
    body = {
        "client_ref": "evt-1",
        "openid": OPENIDS["alice"],
        "template_id": "simLicenceExpiryReminder0001",
        "kind": "one_time",
        "contact_mobile": "13800001234",
        "source": "licence-page",
    }
    created = client.post("/v1/consents", json=body, headers=auth("miniapp"))
    replay = client.post("/v1/consents", json=body, headers=auth("miniapp"))
    assert (created.status_code, replay.status_code) == (201, 200)
    assert created.json() == replay.json() and created.json()["contact_mobile"] == "138****1234"
    assert OPENIDS["alice"] not in created.text
    assert q(ledger, "SELECT COUNT(*) AS n FROM wechat_consent")[0].n == 1
    conflict = client.post(
        "/v1/consents", json={**body, "kind": "long_term"}, headers=auth("miniapp")
    )
    assert conflict.status_code == 409 and "evt-1" in conflict.text
    bad = client.post(
        "/v1/consents",
        json={**body, "client_ref": "evt-2", "contact_mobile": "1380000123X"},
        headers=auth("miniapp"),
    )
    assert bad.status_code == 422 and "contact_mobile" in bad.text and "1380000123X" not in bad.text
    assert client.post("/v1/consents", json=body, headers=auth("biz")).status_code == 403
    assert client.post("/v1/consents", json=body).status_code == 401

    revoke = {"openid": OPENIDS["alice"], "reason": "turned off in settings"}
    assert client.post("/v1/consents/revoke", json=revoke, headers=auth("miniapp")).json() == {
        "revoked": 1
    }
    assert client.post("/v1/consents/revoke", json=revoke, headers=auth("miniapp")).json() == {
        "revoked": 0
    }
    assert client.get("/v1/consents/evt-1", headers=auth("miniapp")).json()["status"] == "revoked"
    assert client.get("/v1/consents/evt-9", headers=auth("miniapp")).status_code == 404


@pytest.mark.mariadb
def test_mini_program_reminders_without_a_wechat_connection_are_held_not_lost(api) -> None:  # type: ignore[no-untyped-def]
    from licence_reminder.channels.render import render_channels
    from licence_reminder.errors import PermanentError
    from licence_reminder.sync import plan as planning
    from licence_reminder.tasks import dispatch_held

    _, ledger = api
    planning.register_department(ledger, DEPT, catalogue_with(["miniprogram"], ["sms"]))
    plan_day(ledger, TODAY)

    def missing():  # type: ignore[no-untyped-def]
        raise PermanentError("connection 'wechat_miniprogram': not defined")

    out = render_channels(ledger, today=TODAY, run_id="dispatch:held", wechat=missing)
    assert (
        out["reminders_held"] == 5 and "not defined" in out["held"][f"{DEPT.code} (mini-program)"]
    )
    assert {
        r.status for r in q(ledger, "SELECT status FROM reminder WHERE channel = 'miniprogram'")
    } == {"planned"}
    with pytest.raises(
        Exception,
        match=r"testdept \(mini-program\): PermanentError: connection 'wechat_miniprogram'",
    ):
        dispatch_held(out)
