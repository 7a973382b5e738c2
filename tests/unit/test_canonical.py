"""Mapping an extract's columns onto the canonical record: a mapping that cannot apply is an error."""

from __future__ import annotations

import pandas as pd
import pytest
from licence_reminder.errors import PermanentError
from licence_reminder.records import CANONICAL_COLUMNS
from licence_reminder.registry import Department
from licence_reminder.sync.extract import to_canonical

FRAME = pd.DataFrame(
    {
        "licence_no": ["A1"],
        "licence_name": ["x"],
        "holder_name": ["y"],
        "lxdh": ["13800000000"],
        "expiry_date": ["2027-01-01"],
        "fzrq": ["2020-01-01"],
    }
)


def dept(columns: dict[str, str], constants: dict[str, str] | None = None) -> Department:
    return Department.model_validate(
        {
            "code": "d1",
            "name": "某局",
            "region_code": "410505",
            "contact": {"name": "王工"},
            "source": {
                "conn_id": "c",
                "extract_sql": "SELECT 1",
                "columns": columns,
                "constants": {"holder_type": "org", **(constants or {})},
            },
        }
    )


def test_mapped_and_constant_columns_land_in_canonical_order() -> None:
    out = to_canonical(FRAME.copy(), dept({"contact_mobile": "lxdh", "issue_date": "fzrq"}))
    assert list(out.columns) == list(CANONICAL_COLUMNS)
    assert out.loc[0, "contact_mobile"] == "13800000000" and out.loc[0, "holder_type"] == "org"


def test_one_column_may_feed_several_fields() -> None:
    frame = FRAME.rename(columns={"holder_name": "fddbr"})
    out = to_canonical(
        frame, dept({"holder_name": "fddbr", "contact_name": "fddbr", "contact_mobile": "lxdh"})
    )
    assert out.loc[0, "holder_name"] == out.loc[0, "contact_name"] == "y"


@pytest.mark.parametrize(
    ("columns", "constants", "says"),
    [
        pytest.param(
            {"contact_mobile": "lxdh", "issue_date": "fzrq_x"},
            {},
            "field 'source.columns': {'issue_date': 'fzrq_x'} name column(s) the extract does not return",
            id="missing-column",
        ),
        pytest.param(
            {"contact_mobile": "lxdh", "licence_no": "fzrq"},
            {},
            "the extract already returns ['licence_no']",
            id="aliased-and-mapped",
        ),
        pytest.param(
            {"contact_mobile": "lxdh"},
            {"licence_name": "食品经营许可证"},
            "field 'source.constants': the extract also returns ['licence_name']",
            id="constant-clash",
        ),
    ],
)
def test_a_mapping_that_cannot_apply_names_the_field(
    columns: dict, constants: dict, says: str
) -> None:
    with pytest.raises(PermanentError) as err:
        to_canonical(FRAME.copy(), dept(columns, constants))
    assert says in str(err.value)
    assert "13800000000" not in str(err.value)
