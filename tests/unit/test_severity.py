"""What each rule does to a row, which of several rows of one licence number is loaded, and notes
that keep no number."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from conftest import ROOT
from licence_reminder.masking import mask_digit_runs
from licence_reminder.records import CANONICAL_COLUMNS
from licence_reminder.validation import rules as R
from licence_reminder.validation.duplicates import SUPERSEDED, TIE, WINS, decide

#: only what no reminder can be made of keeps a row out of the ledger
NOT_LOADED = {
    "required:licence_no",
    "required:licence_name",
    "required:expiry_date",
    "text_value:licence_no",
    "date_format:expiry_date",
    "date_implausible:expiry_date",
    "expiry_before_issue",
    "licence_not_in_catalogue",
    "status_value",
    "duplicate_licence_no",
    "duplicate_superseded",
}


def test_only_what_cannot_become_a_reminder_is_not_loaded() -> None:
    assert {rule for rule in R.all_rules() if R.severity(rule) == R.REJECT} == NOT_LOADED
    for rule in (
        "mobile_format",
        "required:contact_mobile",
        "uscc_check",
        "resident_id_check",
        "name_digits:contact_name",
        "text_value:holder_name",
        "date_format:issue_date",
        "date_implausible:renewal_applied_on",
        "holder_type_value",
        "duplicate_in_source",
    ):
        assert R.severity(rule) == R.WARN, rule


def test_every_rule_s_severity_is_in_the_dba_s_documentation() -> None:
    doc = (ROOT / "docs" / "connectors.md").read_text(encoding="utf-8")
    table = doc.split("### What a rule does to a row")[1].split("###")[0]
    documented: dict[str, str] = {}
    for line in table.splitlines():
        if not line.startswith("| `"):
            continue
        rules, severity = line.split("|")[1:3]
        for rule in re.findall(r"`([^`]+)`", rules):
            if rule not in CANONICAL_COLUMNS:  # "… of `issue_date`, …" names columns, not rules
                documented[rule] = severity.strip()
    expanded = {}
    for rule, severity in documented.items():
        if rule.endswith(":<column>"):  # date_format:<column> of the columns the row names
            continue
        expanded[rule] = severity
    for column in ("issue_date", "renewal_applied_on", "source_updated_at"):
        for kind in ("date_format", "date_implausible"):
            expanded[f"{kind}:{column}"] = documented[f"{kind}:<column>"]
    assert set(expanded) == set(R.all_rules())
    for rule, severity in expanded.items():
        assert (severity == "not loaded") is (R.severity(rule) == R.REJECT), rule


T = dt.datetime(2026, 11, 20, 9, 0)


@pytest.mark.parametrize(
    ("rows", "winner", "verdicts"),
    [
        pytest.param(
            [("N", T, None), ("N", T + dt.timedelta(hours=1), None)],
            (T + dt.timedelta(hours=1), None),
            [SUPERSEDED, WINS],
            id="changed-last-wins",
        ),
        pytest.param(
            [("N", T, "7"), ("N", T, "12")],
            (T, "12"),
            [SUPERSEDED, WINS],
            id="highest-key-breaks-a-tie",
        ),
        pytest.param(
            [("N", T, "9"), ("N", T, "10")],
            (T, "10"),
            [SUPERSEDED, WINS],
            id="keys-compare-as-numbers",
        ),
        pytest.param(
            [("N", None, None), ("N", T, None)],
            (T, None),
            [SUPERSEDED, WINS],
            id="no-stamp-is-oldest",
        ),
        pytest.param(
            [("N", T, None), ("N", T, None)], None, [TIE, TIE], id="nothing-tells-them-apart"
        ),
        pytest.param([("N", T, "3"), ("N", T, "3")], None, [TIE, TIE], id="the-same-row-twice"),
    ],
)
def test_the_row_changed_last_is_loaded(
    rows: list, winner: tuple | None, verdicts: list[str]
) -> None:
    found = decide(rows)

    w = found.winners["N"]
    assert w.tie is (winner is None) and w.rows == len(rows)
    if winner is not None:
        assert (w.stamp, w.key) == winner
    assert [found.verdict("N", stamp, key) for _, stamp, key in rows] == verdicts
    assert "N" not in decide(rows[:1]).winners  # one row is no duplicate


@pytest.mark.parametrize(
    ("note", "kept"),
    [
        pytest.param(
            "已通知，号码 138 1234 5678 可用", "已通知，号码 138****5678 可用", id="spaced-mobile"
        ),
        pytest.param("身份证410505199003071234", "身份证410*************34", id="id-number"),
        pytest.param("座机0372-2510100打通", "座机037****0100打通", id="landline"),
        pytest.param(
            "2026-12-07 下午再打，第3次", "2026-12-07 下午再打，第3次", id="a-date-is-kept"
        ),
    ],
)
def test_a_call_note_keeps_no_number(note: str, kept: str) -> None:
    assert mask_digit_runs(note) == kept
