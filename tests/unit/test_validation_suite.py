"""The chunk Validator (pandas derivation + Great Expectations suite)."""

from __future__ import annotations

import collections
import datetime as dt
import math
import random
from decimal import Decimal
from typing import Any

import pandas as pd
import pytest
from licence_reminder.records import CANONICAL_COLUMNS, PERSONAL_COLUMNS, REQUIRED_COLUMNS
from licence_reminder.validation import rules as R
from licence_reminder.validation.suite import Validator, build_suite

TODAY = dt.date(2026, 11, 24)
CATALOGUE = {"食品经营许可证", "药品经营许可证（零售）"}
_W = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_UW = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)


def rid(body: str) -> str:
    return body + "10X98765432"[sum(int(c) * w for c, w in zip(body, _W, strict=True)) % 11]


def uscc(body: str) -> str:
    total = sum(_ALPHABET.index(c) * w for c, w in zip(body, _UW, strict=True))
    return body + _ALPHABET[(31 - total % 31) % 31]


PERSON_ID = rid("41050519900307123")  # Anyang Long'an 410505: valid, though stdnum's table lacks it
PERSON_ID_X = "41050519900307001X"
CONTACT_ID = rid("44030519851111002")  # Shenzhen Nanshan 440305
ORG_CODE = uscc("91410500MA44AB12C")
BAD_CHECK_ID = PERSON_ID[:-1] + ("0" if PERSON_ID[-1] != "0" else "1")
UPDATED = dt.datetime(2026, 11, 20, 9, 30)


def records(valid: pd.DataFrame) -> list[dict[str, Any]]:
    """The valid rows as plain values: None where missing (text is pandas ``str``, NaN there;
    stamps datetime64, NaT there)."""
    return [
        {
            k: None
            if v is None or v is pd.NaT or (isinstance(v, float) and math.isnan(v))
            else v.to_pydatetime()
            if isinstance(v, pd.Timestamp)
            else v
            for k, v in r.items()
        }
        for r in valid.to_dict("records")
    ]


def row(licence_no: str | None, **overrides: Any) -> dict[str, Any]:
    """A valid organisation's row, as a MySQL driver returns it."""
    base: dict[str, Any] = {
        "licence_no": licence_no,
        "licence_name": "食品经营许可证",
        "holder_name": "安阳市某某食品有限公司",
        "holder_type": "单位",
        "holder_code": ORG_CODE,
        "contact_name": "王五",
        "contact_id_no": CONTACT_ID,
        "contact_mobile": "13812345678",
        "issue_date": dt.date(2021, 12, 31),
        "expiry_date": dt.date(2026, 12, 30),
        "status": "有效",
        "renewal_applied_on": None,
        "source_updated_at": UPDATED,
    }
    base.update(overrides)
    return base


def frame(rows: list[dict[str, Any]], drop: tuple[str, ...] = ()) -> pd.DataFrame:
    columns = [c for c in CANONICAL_COLUMNS if c not in drop]
    return pd.DataFrame.from_records([tuple(r[c] for c in columns) for r in rows], columns=columns)


@pytest.fixture
def validator() -> Validator:
    return Validator(catalogue_names=CATALOGUE, today=TODAY)


MIX = [
    row("L001", contact_mobile="+86 138 1234 5678", expiry_date="2026/12/31"),
    row(
        "L002",
        licence_name=" 药品经营许可证(零售) ",
        holder_name=" 张三 ",
        holder_type="个人",
        holder_code=PERSON_ID_X.lower(),
        contact_name="",
        contact_id_no=None,
        contact_mobile=13912345678,
        issue_date="2020年1月5日",
        expiry_date="20270105",
        status=None,
        renewal_applied_on="2026-11-01",
    ),
    row("L003", contact_mobile="1381234567"),
    row(
        "L004",
        issue_date=dt.date(2026, 1, 1),
        expiry_date=dt.date(2025, 12, 31),
        contact_id_no=BAD_CHECK_ID,
        status="暂停",
    ),
    row("L005", expiry_date=None, contact_mobile=""),
    row("L006", issue_date="0000-00-00", expiry_date="9999-12-31"),
    row("L007", holder_code=PERSON_ID),
    row("L008", holder_type="个人", holder_code=ORG_CODE),
    row("L009", holder_type="其他"),
    row("L010", licence_name="营业执照"),
    row("L001"),
    row(None),
    row("L013", expiry_date="31/12/2026", renewal_applied_on="1900-01-01"),
]
# rows that cannot become a reminder (a REJECT rule failed), with every rule they failed
EXPECTED_REJECTED = {
    4: {
        ("expiry_before_issue", "expiry_date"),
        ("resident_id_check", "contact_id_no"),
        ("status_value", "status"),
    },
    5: {("required:expiry_date", "expiry_date"), ("required:contact_mobile", "contact_mobile")},
    6: {("date_format:issue_date", "issue_date"), ("date_implausible:expiry_date", "expiry_date")},
    10: {("licence_not_in_catalogue", "licence_name")},
    11: {("duplicate_licence_no", "licence_no")},
    12: {("required:licence_no", "licence_no")},
    13: {
        ("date_format:expiry_date", "expiry_date"),
        ("date_implausible:renewal_applied_on", "renewal_applied_on"),
    },
}
# rows loaded with warnings: only WARN rules failed
EXPECTED_WARNED = {
    "L003": {("mobile_format", "contact_mobile")},
    "L007": {
        ("holder_type_mismatch", "holder_code")
    },  # not also uscc_check: the code is a valid ID number
    "L008": {("holder_type_mismatch", "holder_code")},
    "L009": {("holder_type_value", "holder_type")},
}


def test_known_mix_gives_exact_valid_rows_and_rule_ids(validator: Validator) -> None:
    result = validator.validate(frame(MIX))

    assert list(result.valid["licence_no"]) == ["L001", "L002", "L003", "L007", "L008", "L009"]
    assert {
        r.row_number: {(f.rule, f.column) for f in r.failures} for r in result.rejected
    } == EXPECTED_REJECTED
    assert [r.licence_no for r in result.rejected] == [
        "L004",
        "L005",
        "L006",
        "L010",
        "L001",
        None,
        "L013",
    ]
    warned = collections.defaultdict(set)
    for w in result.warnings.itertuples():
        warned[w.licence_no].add((w.rule, w.column_name))
    assert warned == EXPECTED_WARNED
    expected_counts = collections.Counter(
        rule for rules in EXPECTED_REJECTED.values() for rule, _ in rules
    )
    expected_counts += collections.Counter(
        f"warn:{rule}" for rules in EXPECTED_WARNED.values() for rule, _ in rules
    )
    assert result.counts_by_rule == expected_counts
    assert (
        validator.totals
        == collections.Counter(rows=13, valid=6, rejected=7, warned=4) + expected_counts
    )


def test_warned_values_are_not_used_unless_the_ledger_keeps_them(validator: Validator) -> None:
    result = validator.validate(frame(MIX))
    by_no = {r["licence_no"]: r for r in records(result.valid)}

    assert (
        by_no["L003"]["contact_mobile"] == "1381234567"
    )  # kept: it still tells the call staff something
    assert by_no["L009"]["holder_type"] is None  # an unknown code is not stored
    assert by_no["L007"]["holder_code"] == PERSON_ID  # the department's own record, warned


def test_every_failing_rule_of_a_row_is_reported(validator: Validator) -> None:
    bad = row(
        "M1",
        licence_name="营业执照",
        holder_type="个人",
        holder_code=BAD_CHECK_ID,
        contact_id_no="12345",
        contact_mobile="12345",
        issue_date="2026-02-30",
        expiry_date="1900-01-01",
        status="暂停",
        source_updated_at="garbage",
    )

    (rejection,) = validator.validate(frame([bad])).rejected

    assert [f.rule for f in rejection.failures] == [
        "status_value",
        "mobile_format",
        "licence_not_in_catalogue",
        "date_format:issue_date",
        "date_format:source_updated_at",
        "date_implausible:expiry_date",
        "resident_id_check",
        "resident_id_check",
    ]
    assert [f.column for f in rejection.failures if f.rule == "resident_id_check"] == [
        "contact_id_no",
        "holder_code",
    ]


def test_valid_rows_are_normalised(validator: Validator) -> None:
    valid = validator.validate(frame(MIX[:2])).valid
    first, second = records(valid)

    assert list(valid.columns) == list(CANONICAL_COLUMNS)
    assert first == {
        "licence_no": "L001",
        "licence_name": "食品经营许可证",
        "holder_name": "安阳市某某食品有限公司",
        "holder_type": "org",
        "holder_code": ORG_CODE,
        "contact_name": "王五",
        "contact_id_no": CONTACT_ID,
        "contact_mobile": "13812345678",
        "issue_date": dt.date(2021, 12, 31),
        "expiry_date": dt.date(2026, 12, 31),
        "status": "valid",
        "renewal_applied_on": None,
        "source_updated_at": UPDATED,
    }
    assert second == {
        "licence_no": "L002",
        "licence_name": "药品经营许可证（零售）",
        "holder_name": "张三",
        "holder_type": "person",
        "holder_code": PERSON_ID_X,
        "contact_name": None,
        "contact_id_no": None,
        "contact_mobile": "13912345678",
        "issue_date": dt.date(2020, 1, 5),
        "expiry_date": dt.date(2027, 1, 5),
        "status": "valid",
        "renewal_applied_on": dt.date(2026, 11, 1),
        "source_updated_at": UPDATED,
    }
    assert type(first["issue_date"]) is dt.date and type(first["source_updated_at"]) is dt.datetime


def test_duplicates_across_chunks_keep_the_first_and_number_rows_across_chunks(
    validator: Validator,
) -> None:
    first = validator.validate(frame([row("A"), row("B")]))
    second = validator.validate(frame([row("B"), row("C"), row("C")]))

    assert list(first.valid["licence_no"]) == ["A", "B"] and not first.rejected
    assert list(second.valid["licence_no"]) == ["C"]
    assert [
        (r.row_number, r.licence_no, [f.rule for f in r.failures]) for r in second.rejected
    ] == [(3, "B", ["duplicate_licence_no"]), (5, "C", ["duplicate_licence_no"])]
    assert validator.totals == collections.Counter(
        rows=5, valid=3, rejected=2, duplicate_licence_no=2
    )


def test_chunks_validated_in_one_gx_run_give_what_one_run_each_gives() -> None:
    """validate_many runs Great Expectations once over several chunks: each chunk's rejections
    (rules, reasons, row numbers, duplicates across chunks) and valid rows are those of
    validating the chunks one by one."""
    chunks = [
        frame(MIX),
        frame([row("L001"), row("X9", contact_mobile="139"), row(None)]),
        frame([]),
        frame([row("X9"), row("Y1", expiry_date="2026-02-30")]),
    ]

    def outcome(results: list[Any]) -> list[Any]:
        return [
            (
                [
                    (
                        r.row_number,
                        r.licence_no,
                        [(f.rule, f.column, f.message) for f in r.failures],
                    )
                    for r in res.rejected
                ],
                records(res.valid),
            )
            for res in results
        ]

    one_by_one = Validator(catalogue_names=CATALOGUE, today=TODAY)
    together = Validator(catalogue_names=CATALOGUE, today=TODAY)
    assert outcome(together.validate_many(chunks)) == outcome(
        [one_by_one.validate(c) for c in chunks]
    )
    assert together.totals == one_by_one.totals
    assert any(r.rejected for r in together.validate_many([frame([row("L002")])]))  # seen before


def test_missing_optional_columns_are_null(validator: Validator) -> None:
    optional = (
        "holder_code",
        "contact_name",
        "contact_id_no",
        "issue_date",
        "status",
        "renewal_applied_on",
        "source_updated_at",
    )

    result = validator.validate(frame([row("A"), row("B")], drop=optional))

    assert not result.rejected
    assert list(result.valid.columns) == list(CANONICAL_COLUMNS)
    rec = records(result.valid)[0]
    assert {c: rec[c] for c in optional} == {**dict.fromkeys(optional), "status": "valid"}


def test_missing_required_column_rejects_every_row(validator: Validator) -> None:
    result = validator.validate(frame([row("A"), row("B")], drop=("expiry_date",)))

    assert result.valid.empty
    assert [[f.rule for f in r.failures] for r in result.rejected] == [["required:expiry_date"]] * 2


def test_missing_mobile_loads_the_licence_with_a_warning(validator: Validator) -> None:
    result = validator.validate(frame([row("A"), row("B")], drop=("contact_mobile",)))

    assert not result.rejected
    assert list(result.valid["licence_no"]) == ["A", "B"]
    assert list(result.warnings["rule"]) == ["required:contact_mobile"] * 2


def test_messages_carry_no_unmasked_personal_data(validator: Validator) -> None:
    rows = [
        *MIX,
        row(
            "P1",
            holder_type="个人",
            holder_code=BAD_CHECK_ID,
            contact_id_no="41050519900307",
            contact_mobile="+86 139 8765 432",
            holder_name="李四",
            contact_name="赵六",
        ),
    ]
    result = validator.validate(frame(rows))
    personal: set[str] = set()
    for r in rows:
        for c in PERSONAL_COLUMNS:
            if r[c] not in (None, ""):
                personal |= {str(r[c]).strip(), str(R.normalise_mobile(r[c]))}

    messages = [f.message for rej in result.rejected for f in rej.failures] + list(
        result.warnings["message"]
    )

    assert len(messages) >= 19
    leaks = [(m, p) for m in messages for p in personal if len(p) >= 2 and p in m]
    assert leaks == []


def test_rejections_keep_the_original_values_unmasked(validator: Validator) -> None:
    result = validator.validate(
        frame(
            [
                row(
                    "A",
                    contact_mobile=" 138-1234-567 ",
                    expiry_date=dt.date(2027, 1, 1),
                    issue_date="2020/1/2",
                    contact_id_no=BAD_CHECK_ID,
                    licence_name="营业执照",
                )
            ]
        )
    )

    raw = result.rejected[0].raw
    assert raw["contact_mobile"] == " 138-1234-567 "
    assert raw["contact_id_no"] == BAD_CHECK_ID
    assert (raw["expiry_date"], raw["issue_date"], raw["renewal_applied_on"]) == (
        "2027-01-01",
        "2020/1/2",
        None,
    )
    assert raw["source_updated_at"] == "2026-11-20 09:30:00"


def test_driver_value_types(validator: Validator) -> None:
    rows = [
        row(
            "A",
            contact_mobile=Decimal(13812345678),
            issue_date=20200101,
            source_updated_at=dt.datetime(2026, 11, 20, 1, 30, tzinfo=dt.UTC),
        ),
        row("B", contact_mobile=None, holder_type=1, source_updated_at="2026-11-20T01:30:00Z"),
        row(
            "C",
            contact_mobile=13912345678.0,
            holder_type=2,
            holder_code=PERSON_ID,
            source_updated_at=pd.Timestamp("2026-11-20 09:30"),
        ),
    ]

    result = validator.validate(frame(rows))

    assert not result.rejected
    assert [(w.licence_no, w.rule) for w in result.warnings.itertuples()] == [
        ("B", "required:contact_mobile")
    ]
    recs = records(result.valid)
    assert [(r["contact_mobile"], r["holder_type"], r["source_updated_at"]) for r in recs] == [
        ("13812345678", "org", dt.datetime(2026, 11, 20, 9, 30)),
        (None, "org", dt.datetime(2026, 11, 20, 9, 30)),
        ("13912345678", "person", dt.datetime(2026, 11, 20, 9, 30)),
    ]
    assert recs[0]["issue_date"] == dt.date(2020, 1, 1)


@pytest.mark.parametrize("odd", ["2026-1-5 1:2:3", "2026-02-30 10:00:00", "2026-11-20 09:30:00.5"])
def test_text_timestamps_read_column_wise_mean_what_rules_py_says(odd: str) -> None:
    """MariaDB's DATETIME as text: a column of exact YYYY-MM-DD hh:mm:ss is read in one go, and
    gives what the datetimes themselves give; any other text sends the column through rules.py."""
    as_text = [row(f"T{k}", source_updated_at=f"2026-11-{20 + k} 09:30:00") for k in range(3)]
    as_moments = [
        row(f"T{k}", source_updated_at=dt.datetime(2026, 11, 20 + k, 9, 30)) for k in range(3)
    ]
    results = [
        Validator(catalogue_names=CATALOGUE, today=TODAY).validate(frame(rows))
        for rows in (as_text, as_moments)
    ]
    assert results[0].valid.equals(results[1].valid) and not results[0].rejected

    mixed = [*as_text, row("T9", source_updated_at=odd)]
    result = Validator(catalogue_names=CATALOGUE, today=TODAY).validate(frame(mixed))
    try:
        R.parse_datetime(odd)
        expected: list[tuple[str | None, list[str]]] = []
    except ValueError:
        expected = [("T9", "date_format:source_updated_at")]  # loaded, without its stamp
    assert not result.rejected
    assert [(w.licence_no, w.rule) for w in result.warnings.itertuples()] == expected
    assert list(result.valid["source_updated_at"][:3]) == [
        dt.datetime(2026, 11, 20 + k, 9, 30) for k in range(3)
    ]


def test_tz_aware_datetime_column_is_converted_to_beijing(validator: Validator) -> None:
    chunk = frame([row("A"), row("B")])
    chunk["source_updated_at"] = pd.to_datetime(["2026-11-20 01:30", None]).tz_localize("UTC")

    result = validator.validate(chunk)

    assert [r["source_updated_at"] for r in records(result.valid)] == [
        dt.datetime(2026, 11, 20, 9, 30),
        None,
    ]


def test_chunk_index_need_not_start_at_zero(validator: Validator) -> None:
    chunk = frame([row("A"), row("B", expiry_date="1", contact_mobile="1")])
    chunk.index = [100, 101]

    result = validator.validate(chunk)

    assert list(result.valid["licence_no"]) == ["A"]
    assert [(r.row_number, r.raw["contact_mobile"]) for r in result.rejected] == [(2, "1")]


def test_empty_chunk(validator: Validator) -> None:
    result = validator.validate(frame([]))

    assert result.valid.empty and list(result.valid.columns) == list(CANONICAL_COLUMNS)
    assert result.rejected == [] and validator.totals["rows"] == 0


def test_suite_declares_the_gx_expectations() -> None:
    suite = build_suite(CATALOGUE)
    by_rule = {(e.meta["rule"], e.meta["column"]): type(e).__name__ for e in suite.expectations}

    for c in REQUIRED_COLUMNS:
        assert by_rule[(f"required:{c}", c)] == "ExpectColumnValuesToNotBeNull"
    assert by_rule[("holder_type_value", "holder_type")] == "ExpectColumnValuesToBeInSet"
    assert by_rule[("status_value", "status")] == "ExpectColumnValuesToBeInSet"
    assert by_rule[("licence_not_in_catalogue", "licence_name")] == "ExpectColumnValuesToBeInSet"
    assert by_rule[("mobile_format", "contact_mobile")] == "ExpectColumnValuesToMatchRegex"
    # what derivation decided, as one expectation on the conjunction of its checks
    (derived,) = [e for e in suite.expectations if e.meta["rule"] == "derived"]
    assert (type(derived).__name__, derived.column, list(derived.value_set)) == (
        "ExpectColumnValuesToBeInSet",
        "ok__derived",
        [True],
    )
    assert {c.split(" ")[0] for c in derived.meta["checks"]} >= {
        "resident_id_check",
        "uscc_check",
        "holder_type_mismatch",
        "expiry_before_issue",
        "duplicate_licence_no",
        "date_format:expiry_date",
        "date_implausible:expiry_date",
    }
    assert len(suite.expectations) == len(REQUIRED_COLUMNS) + 5


def test_vectorised_id_checks_agree_with_rules_py(validator: Validator) -> None:
    rng = random.Random(11)
    codes: list[str] = []
    for _ in range(300):
        body = (
            f"{rng.choice(['410502', '410505', '440305', '110101'])}"
            f"{rng.randrange(1890, 2030)}{rng.randrange(0, 14):02d}{rng.randrange(0, 32):02d}"
            f"{rng.randrange(1000):03d}"
        )
        number = rid(body)
        roll = rng.random()
        if roll < 0.3:
            number = number[:-1] + rng.choice("0123456789X")
        elif roll < 0.4:
            number = number.lower()
        codes.append(number)
        org = uscc(
            "91"
            + rng.choice(["410500", "440305"])
            + "".join(rng.choice(_ALPHABET) for _ in range(9))
        )
        codes.append(org[:-1] + rng.choice(_ALPHABET) if rng.random() < 0.3 else org)
    rows = [
        row(
            f"X{i}", holder_type="个人" if i % 2 == 0 else "单位", holder_code=c, contact_id_no=None
        )
        for i, c in enumerate(codes)
    ]

    result = validator.validate(frame(rows))

    assert not result.rejected  # a wrong check character is a warning: the licence is loaded
    rejected = set(result.warnings["licence_no"])
    for i, c in enumerate(codes):
        problem = R.resident_id_problem(c, today=TODAY) if i % 2 == 0 else R.uscc_problem(c)
        assert (f"X{i}" in rejected) is (problem is not None), c
    assert 0 < len(rejected) < len(codes)


def test_raw_text_of_a_rejected_row_with_a_null_timestamp(validator: Validator) -> None:
    chunk = frame([row("A", expiry_date="x"), row("B", expiry_date="y")])
    chunk["source_updated_at"] = pd.to_datetime(["2026-11-20 01:30:00", None])

    result = validator.validate(chunk)

    assert [r.raw["source_updated_at"] for r in result.rejected] == ["2026-11-20 01:30:00", None]


def test_full_width_identity_numbers_are_accepted_in_ascii(validator: Validator) -> None:
    full_width = PERSON_ID.translate({ord(d): ord(d) + 0xFEE0 for d in "0123456789"})

    result = validator.validate(
        frame(
            [row("A", holder_type="个人", holder_code=full_width, contact_id_no=f" {full_width} ")]
        )
    )

    assert not result.rejected
    assert result.valid.loc[0, ["holder_code", "contact_id_no"]].tolist() == [PERSON_ID, PERSON_ID]


def test_identity_numbers_written_with_spaces_are_accepted_without_them(
    validator: Validator,
) -> None:
    spaced = f"{PERSON_ID[:6]} {PERSON_ID[6:14]} {PERSON_ID[14:].lower()}"

    result = validator.validate(
        frame([row("A", holder_type="个人", holder_code=spaced, contact_id_no=spaced)])
    )

    assert not result.rejected
    assert result.valid.loc[0, ["holder_code", "contact_id_no"]].tolist() == [PERSON_ID, PERSON_ID]


def test_aware_timestamp_beyond_year_9999_in_beijing_is_a_format_failure(
    validator: Validator,
) -> None:
    chunk = frame([row("A"), row("B")])
    chunk["source_updated_at"] = pd.to_datetime(
        ["2026-11-20 01:30", "9999-12-31 23:00"]
    ).tz_localize("UTC")

    result = validator.validate(chunk)

    assert list(result.valid["licence_no"]) == ["A", "B"]  # B loaded without its stamp
    assert [(w.licence_no, w.rule) for w in result.warnings.itertuples()] == [
        ("B", "date_format:source_updated_at")
    ]
    assert records(result.valid)[1]["source_updated_at"] is None


@pytest.mark.parametrize(
    ("values", "rule", "says"),
    [
        pytest.param(
            {"contact_name": "410502198001011231"},
            "name_digits",
            "holds a run of 9 or more digits",
            id="id-in-name",
        ),
        pytest.param(
            {"holder_name": "某人 13912345678"},
            "name_digits",
            "holds a run of 9 or more digits",
            id="mobile-in-name",
        ),
        pytest.param(
            {"contact_name": "４１０５０２１９８００１０１１２３１"},
            "name_digits",
            "holds a run of 9",
            id="full-width-digits",
        ),
        pytest.param(
            {"contact_name": "张三".encode("gbk")}, "text_value", "not UTF-8 text", id="gbk-bytes"
        ),
        pytest.param(
            {"holder_name": "某" * 201},
            "text_value",
            "201 characters long, more than the ledger's 200",
            id="too-long",
        ),
    ],
)
def test_a_name_that_cannot_be_kept_is_left_out_with_a_warning(
    validator: Validator, values: dict, rule: str, says: str
) -> None:
    result = validator.validate(
        frame([row("T1", **values), row("T2", holder_name="安阳市第9分公司")])
    )

    assert not result.rejected
    (warning,) = result.warnings.itertuples()
    (column,) = values
    assert (warning.licence_no, warning.rule, warning.column_name) == (
        "T1",
        f"{rule}:{column}",
        column,
    )
    assert says in warning.message and not any(str(v) in warning.message for v in values.values())
    assert records(result.valid)[0][column] is None  # never texted, never stored
    assert records(result.valid)[1]["holder_name"] == "安阳市第9分公司"


def test_a_licence_number_that_cannot_be_kept_is_rejected_without_quoting_it(
    validator: Validator,
) -> None:
    result = validator.validate(frame([row("X" * 65), row("T2")]))

    (rej,) = result.rejected
    (failure,) = rej.failures
    assert failure.rule == "text_value:licence_no"
    assert (
        "65 characters long, more than the ledger's 64" in failure.message
        and "XXXX" not in failure.message
    )
    assert list(result.valid["licence_no"]) == ["T2"]


def test_seen_numbers_confirm_a_key_match_on_the_number(monkeypatch: pytest.MonkeyPatch) -> None:
    """Licence numbers are kept as 64-bit keys; two numbers sharing a key are still told apart."""
    import numpy as np
    import pyarrow as pa
    from licence_reminder.validation import suite

    seen = suite.SeenNumbers(["A1", "B2"])
    assert seen.contains(pa.array(["B2", "C3", "A1"])).tolist() == [True, False, True]
    monkeypatch.setattr(suite, "number_keys", lambda values: np.zeros(len(values), dtype=np.uint64))
    colliding = suite.SeenNumbers(["A1", "B2"])
    colliding.add(pa.array(["D4"]))
    assert colliding.contains(pa.array(["B2", "C3", "D4", "E5"])).tolist() == [
        True,
        False,
        True,
        False,
    ]
    assert sorted(colliding.all().to_pylist()) == ["A1", "B2", "D4"]
