"""Every endpoint of the UI refuses a request without a valid login (401) or without the role
(403), and answers the roles it is for — plain HTTP against the running API server."""

from __future__ import annotations

import re
from types import SimpleNamespace

import jwt
import pytest
import requests

ALL = {
    "admin",
    "ops",
    "auditor",
    "reviewer_scjgj",
    "reviewer_jtysj",
    "callstaff_scjgj",
    "callstaff_jtysj",
}
EVERYTHING = {"admin", "ops", "auditor"}
#: who may act on the call list (reveal a mobile, record an outcome, export unmasked)
ACTING = {"admin", "ops"}
CALL_STAFF = {"callstaff_scjgj", "callstaff_jtysj"}
#: a full mobile or an ID number anywhere in a page is a leak (masked forms have stars)
_PERSONAL = re.compile(r"(?<![\d*])(?:1[3-9]\d{9}|\d{17}[\dXx])(?![\d*])")


def _endpoints(ui: SimpleNamespace) -> list[tuple[str, str, dict | None, set[str]]]:
    """(method, path, form, users allowed) for every route of the app."""
    report = min(p.name for p in (ui.var / "reports").glob("dq_scjgj_*.html"))
    message_id = _a_message_id(ui)
    return [
        ("GET", "/", None, ALL),
        ("GET", "/today", None, EVERYTHING),
        ("GET", "/delivery-log", None, EVERYTHING),
        ("POST", "/delivery-log", {"dept": "scjgj"}, EVERYTHING),
        ("POST", "/delivery-log/export", {"format": "csv"}, EVERYTHING),
        ("POST", "/delivery-log/export", {"format": "xlsx"}, EVERYTHING),
        ("GET", f"/delivery-log/message/{message_id}", None, EVERYTHING),
        ("GET", "/delivery-log/lapsed", None, EVERYTHING),
        ("GET", "/delivery-log/lapsed.csv", None, EVERYTHING),
        ("GET", "/delivery-log/lapsed.xlsx", None, EVERYTHING),
        ("GET", "/review?dept=scjgj", None, EVERYTHING | {"reviewer_scjgj"}),
        ("GET", "/review?dept=jtysj", None, EVERYTHING | {"reviewer_jtysj"}),
        ("GET", "/review/annual?dept=scjgj", None, EVERYTHING | {"reviewer_scjgj"}),
        ("GET", "/review/pack.xlsx?dept=scjgj", None, EVERYTHING | {"reviewer_scjgj"}),
        ("GET", "/reports", None, EVERYTHING | {"reviewer_scjgj", "reviewer_jtysj"}),
        ("GET", f"/reports/{report}", None, EVERYTHING | {"reviewer_scjgj"}),
        ("GET", "/call-list", None, EVERYTHING | CALL_STAFF),
        ("GET", "/call-list?show=all&page=0", None, EVERYTHING | CALL_STAFF),
        ("GET", "/call-list?dept=jtysj", None, EVERYTHING | {"callstaff_jtysj"}),
        (
            "GET",
            f"/call-list/task/{_a_call_task(ui, 'scjgj')}",
            None,
            EVERYTHING | {"callstaff_scjgj"},
        ),
        (
            "GET",
            f"/call-list/task/{_a_call_task(ui, 'jtysj')}",
            None,
            EVERYTHING | {"callstaff_jtysj"},
        ),
        ("POST", "/call-list/export", {"show": "all"}, EVERYTHING | CALL_STAFF),
        ("POST", "/call-list/export", {"dept": "scjgj"}, EVERYTHING | {"callstaff_scjgj"}),
    ]


def _acting_endpoints(ui: SimpleNamespace) -> list[tuple[str, dict, set[str], int]]:
    """(path, form, users allowed, the allowed users' status) of the call list's POSTs that act:
    revealing a mobile, recording an outcome (sent without one: refused as 400, nothing recorded),
    exporting unmasked."""
    scjgj, jtysj = _a_call_task(ui, "scjgj"), _a_call_task(ui, "jtysj")
    return [
        (f"/call-list/task/{scjgj}/reveal", {}, ACTING | {"callstaff_scjgj"}, 200),
        (f"/call-list/task/{jtysj}/reveal", {}, ACTING | {"callstaff_jtysj"}, 200),
        (f"/call-list/task/{scjgj}/outcome", {"note": "x"}, ACTING | {"callstaff_scjgj"}, 400),
        (
            "/call-list/export",
            {"dept": "jtysj", "unmasked": "1"},
            ACTING | {"callstaff_jtysj"},
            200,
        ),
        (
            "/call-list/export",
            {"unmasked": "1"},
            ACTING | CALL_STAFF,
            200,
        ),  # staff: their department
    ]


def _a_call_task(ui: SimpleNamespace, dept: str) -> int:
    """A department's call task from a refused SMS (the browser tests work the undelivered one)."""
    import sqlite3

    with sqlite3.connect(ui.var / "ledger.db") as db:
        return db.execute(
            "SELECT id FROM call_task WHERE dept_code = ? AND reason_code = 'refused' "
            "ORDER BY id LIMIT 1",
            (dept,),
        ).fetchone()[0]


def _a_message_id(ui: SimpleNamespace) -> str:
    import sqlite3

    with sqlite3.connect(ui.var / "ledger.db") as db:
        return db.execute(
            "SELECT id FROM outbox_message WHERE dept_code = 'scjgj' LIMIT 1"
        ).fetchone()[0]


def _call(
    ui: SimpleNamespace, method: str, path: str, form: dict | None, headers: dict[str, str]
) -> requests.Response:
    return requests.request(
        method, f"{ui.app}{path}", data=form, headers=headers, timeout=60, allow_redirects=False
    )


def test_without_a_valid_login_every_endpoint_is_401_and_shows_nothing(
    ui_server: SimpleNamespace,
) -> None:
    forged = jwt.encode(
        {"sub": "1", "aud": "apache-airflow", "exp": 4102444800},
        "not-the-secret-" * 8,
        algorithm="HS512",
    )
    acting = [("POST", path, form, users) for path, form, users, _ in _acting_endpoints(ui_server)]
    for method, path, form, _ in _endpoints(ui_server) + acting:
        for headers in (
            {},
            {"Authorization": f"Bearer {forged}"},
            {"Cookie": f"_token={forged}"},
            {"Authorization": "Bearer garbage"},
        ):
            r = _call(ui_server, method, path, form, headers)
            assert r.status_code == 401, (method, path, headers, r.status_code)
            assert "<table" not in r.text and "安阳" not in r.text, (method, path)


def test_each_role_gets_its_pages_and_403_for_the_others(
    ui_server: SimpleNamespace, tokens: dict[str, str]
) -> None:
    assert set(tokens) == ALL
    seen = []
    for method, path, form, allowed in _endpoints(ui_server):
        for user, token in tokens.items():
            r = _call(ui_server, method, path, form, {"Authorization": f"Bearer {token}"})
            expected = (303 if path == "/" else 200) if user in allowed else 403
            assert r.status_code == expected, (user, method, path, r.status_code, r.text[:300])
            if r.status_code == 403:
                assert "<table" not in r.text
            if r.status_code == 200 and "html" in r.headers["content-type"]:
                assert not _PERSONAL.search(r.text), (user, path, _PERSONAL.search(r.text).group())
                seen.append(path)
    assert len(seen) > 20


def test_only_who_may_act_reveals_records_or_exports_unmasked(
    ui_server: SimpleNamespace, tokens: dict[str, str]
) -> None:
    import sqlite3

    def reveals() -> list[str]:
        with sqlite3.connect(ui_server.var / "ledger.db") as db:
            return [
                who
                for (who,) in db.execute(
                    "SELECT accessed_by FROM personal_data_access WHERE via LIKE 'ui call list%' ORDER BY id"
                )
            ]

    before = reveals()
    for path, form, allowed, ok in _acting_endpoints(ui_server):
        for user, token in tokens.items():
            r = _call(ui_server, "POST", path, form, {"Authorization": f"Bearer {token}"})
            assert r.status_code == (ok if user in allowed else 403), (
                user,
                path,
                r.status_code,
                r.text[:300],
            )
            if r.status_code == 403:
                assert "<table" not in r.text and not _PERSONAL.search(r.text)
            if path.endswith("/reveal") and r.status_code == 200:
                assert _PERSONAL.search(r.text)  # the full mobile, to phone
            if path.endswith("/outcome") and r.status_code == 400:
                assert "请选择联系结果" in r.text  # the error shown, not a 500
    # one audit row per reveal and per unmasked export, naming who: none for anyone refused
    expected = sorted(
        u
        for path, _, allowed, _ in _acting_endpoints(ui_server)
        if not path.endswith("/outcome")
        for u in allowed
    )
    assert sorted(reveals()[len(before) :]) == expected


def _sheet(body: bytes) -> list[dict]:
    import io

    from openpyxl import load_workbook

    rows = list(load_workbook(io.BytesIO(body)).active.iter_rows(values_only=True))
    return [dict(zip(rows[0], r)) for r in rows[1:]]


def test_call_list_exports_are_masked_unless_asked_by_who_may_act(
    ui_server: SimpleNamespace, tokens: dict[str, str]
) -> None:
    def export(user: str, form: dict) -> list[dict]:
        r = _call(
            ui_server,
            "POST",
            "/call-list/export",
            form,
            {"Authorization": f"Bearer {tokens[user]}"},
        )
        assert r.status_code == 200 and r.headers["content-type"].startswith(
            "application/vnd.openxmlformats"
        )
        return _sheet(r.content)

    audited = export("auditor", {"show": "all"})
    assert {r["部门"] for r in audited} == {"安阳市市场监督管理局", "安阳市交通运输局"}
    assert all("*" in (r["联系人手机号码"] or "*") and "*" in (r["联系人"] or "*") for r in audited)
    staff = export("callstaff_scjgj", {"show": "all"})
    assert {r["部门"] for r in staff} == {"安阳市市场监督管理局"} and not any(
        "*" in (r["联系人"] or "") for r in staff
    )
    unmasked = export("callstaff_scjgj", {"show": "all", "unmasked": "1"})
    assert any(_PERSONAL.fullmatch(r["联系人手机号码"] or "") for r in unmasked)


def test_a_post_from_another_site_is_refused(
    ui_server: SimpleNamespace, tokens: dict[str, str]
) -> None:
    path = f"/call-list/task/{_a_call_task(ui_server, 'scjgj')}/reveal"
    r = _call(
        ui_server,
        "POST",
        path,
        {},
        {"Cookie": f"_token={tokens['callstaff_scjgj']}", "Sec-Fetch-Site": "cross-site"},
    )
    assert r.status_code == 403 and not _PERSONAL.search(r.text)


def test_the_browser_cookie_counts_as_the_login(
    ui_server: SimpleNamespace, tokens: dict[str, str]
) -> None:
    r = _call(ui_server, "GET", "/today", None, {"Cookie": f"_token={tokens['auditor']}"})
    assert r.status_code == 200 and "今日运行" in r.text
    r = _call(ui_server, "GET", "/today", None, {"Cookie": f"_token={tokens['reviewer_scjgj']}"})
    assert r.status_code == 403


@pytest.mark.parametrize(
    "form", [{"licence": "x' OR 1=1 --"}, {"date_from": "2026-13-45"}, {"dept": "nope"}]
)
def test_bad_search_input_is_refused_or_matches_nothing(
    ui_server: SimpleNamespace, tokens: dict[str, str], form: dict
) -> None:
    r = _call(
        ui_server, "POST", "/delivery-log", form, {"Authorization": f"Bearer {tokens['auditor']}"}
    )
    assert r.status_code in (200, 400)
    assert "<tbody>\n<tr><td colspan" in r.text or r.status_code == 400


def test_a_full_mobile_searched_for_is_masked_before_the_query(
    ui_server: SimpleNamespace, tokens: dict[str, str]
) -> None:
    import sqlite3

    with sqlite3.connect(ui_server.var / "ledger.db") as db:
        full, masked = db.execute(
            "SELECT recipient, recipient_masked FROM outbox_message LIMIT 1"
        ).fetchone()
    r = _call(
        ui_server,
        "POST",
        "/delivery-log",
        {"mobile": full, "date_from": "2000-01-01"},
        {"Authorization": f"Bearer {tokens['auditor']}"},
    )
    assert r.status_code == 200
    assert masked in r.text and full not in r.text
