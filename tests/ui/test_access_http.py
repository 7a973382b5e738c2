"""Every endpoint of the UI refuses a request without a valid login (401) or without the role
(403), and answers the roles it is for — plain HTTP against the running API server."""

from __future__ import annotations

import re
from types import SimpleNamespace

import jwt
import pytest
import requests

ALL = {"admin", "ops", "auditor", "reviewer_scjgj", "reviewer_jtysj", "callstaff_scjgj", "callstaff_jtysj"}
EVERYTHING = {"admin", "ops", "auditor"}
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
        ("GET", "/call-list", None, EVERYTHING | {"callstaff_scjgj", "callstaff_jtysj"}),
    ]


def _a_message_id(ui: SimpleNamespace) -> str:
    import sqlite3

    with sqlite3.connect(ui.var / "ledger.db") as db:
        return db.execute("SELECT id FROM outbox_message WHERE dept_code = 'scjgj' LIMIT 1").fetchone()[0]


def _call(ui: SimpleNamespace, method: str, path: str, form: dict | None,
          headers: dict[str, str]) -> requests.Response:
    return requests.request(method, f"{ui.app}{path}", data=form, headers=headers, timeout=60,
                            allow_redirects=False)


def test_without_a_valid_login_every_endpoint_is_401_and_shows_nothing(ui_server: SimpleNamespace) -> None:
    forged = jwt.encode({"sub": "1", "aud": "apache-airflow", "exp": 4102444800}, "not-the-secret-" * 8,
                        algorithm="HS512")
    for method, path, form, _ in _endpoints(ui_server):
        for headers in ({}, {"Authorization": f"Bearer {forged}"}, {"Cookie": f"_token={forged}"},
                        {"Authorization": "Bearer garbage"}):
            r = _call(ui_server, method, path, form, headers)
            assert r.status_code == 401, (method, path, headers, r.status_code)
            assert "<table" not in r.text and "安阳" not in r.text, (method, path)


def test_each_role_gets_its_pages_and_403_for_the_others(ui_server: SimpleNamespace,
                                                         tokens: dict[str, str]) -> None:
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


def test_the_browser_cookie_counts_as_the_login(ui_server: SimpleNamespace, tokens: dict[str, str]) -> None:
    r = _call(ui_server, "GET", "/today", None, {"Cookie": f"_token={tokens['auditor']}"})
    assert r.status_code == 200 and "今日运行" in r.text
    r = _call(ui_server, "GET", "/today", None, {"Cookie": f"_token={tokens['reviewer_scjgj']}"})
    assert r.status_code == 403


@pytest.mark.parametrize("form", [{"licence": "x' OR 1=1 --"}, {"date_from": "2026-13-45"}, {"dept": "nope"}])
def test_bad_search_input_is_refused_or_matches_nothing(ui_server: SimpleNamespace, tokens: dict[str, str],
                                                        form: dict) -> None:
    r = _call(ui_server, "POST", "/delivery-log", form, {"Authorization": f"Bearer {tokens['auditor']}"})
    assert r.status_code in (200, 400)
    assert "<tbody>\n<tr><td colspan" in r.text or r.status_code == 400


def test_a_full_mobile_searched_for_is_masked_before_the_query(ui_server: SimpleNamespace,
                                                              tokens: dict[str, str]) -> None:
    import sqlite3

    with sqlite3.connect(ui_server.var / "ledger.db") as db:
        full, masked = db.execute("SELECT recipient, recipient_masked FROM outbox_message LIMIT 1").fetchone()
    r = _call(ui_server, "POST", "/delivery-log", {"mobile": full, "date_from": "2000-01-01"},
              {"Authorization": f"Bearer {tokens['auditor']}"})
    assert r.status_code == 200
    assert masked in r.text and full not in r.text
