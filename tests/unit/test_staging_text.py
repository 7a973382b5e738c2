"""The text a sync writes: the row hash the ledger keeps, and the file LOAD DATA reads."""

from __future__ import annotations

import datetime as dt
import hashlib
import math
import random
from pathlib import Path

import pandas as pd
import pytest
from licence_reminder.sync import rows as staging

ALPHABET = ["a", "中", "\t", "\n", "\\", '"', "\x1f", "\r", "\x00", " ", "N", "𠀀"]


def _frames() -> list[pd.DataFrame]:
    rng = random.Random(5)
    frames = []
    for trial in range(120):
        n = rng.randint(1, 25)
        plain = trial % 2 == 0  # the usual case (Arrow's CSV writer) and the awkward one
        columns = {
            f"c{k}": pd.Series(
                [
                    f"v{i}{k}"
                    if plain
                    else (
                        None
                        if rng.random() < 0.1
                        else "".join(rng.choice(ALPHABET) for _ in range(rng.randint(0, 6)))
                    )
                    for i in range(n)
                ],
                dtype="str" if k % 2 else object,
            )
            for k in range(4)
        }
        frame = pd.DataFrame(columns)
        frame["d"] = pd.Series(
            [dt.date(2026, 1, 1 + i % 28) if rng.random() < 0.8 else None for i in range(n)],
            dtype=object,
        )
        frames.append(frame)
    return frames


def _expected_line(row: list[object]) -> str:
    fields = []
    for v in row:
        if v is None or (isinstance(v, float) and math.isnan(v)):
            fields.append("\\N")
            continue
        text = v.isoformat() if isinstance(v, dt.date) else str(v)
        for a, b in (("\\", "\\\\"), ("\t", "\\t"), ("\n", "\\n"), ("\r", "\\r"), ("\x00", "\\0")):
            text = text.replace(a, b)
        fields.append(text)
    return "\t".join(fields) + "\n"


def test_row_hash_is_the_md5_of_the_texts_joined_as_the_ledger_keeps_it() -> None:
    """Ledgers hold this hash for every row: another text would look like a change everywhere."""
    for frame in _frames():
        texts = [staging.column_text(frame[c])[0] for c in frame.columns]
        expected = [
            hashlib.md5("\x1f".join(parts).encode("utf-8")).hexdigest()
            for parts in zip(*(t.to_pylist() for t in texts), strict=True)
        ]
        assert staging.row_hashes(texts).tolist() == expected


def test_the_load_file_escapes_what_load_data_would_misread(tmp_path: Path) -> None:
    for k, frame in enumerate(_frames()):
        folder = tmp_path / str(k)
        folder.mkdir()
        staged = staging.prepare("staging_key", frame, bulk=True, folder=folder)
        assert staged is not None and staged.rows == len(frame)
        written = Path(str(staged.path)).read_bytes().decode("utf-8")
        assert written == "".join(
            _expected_line(list(r)) for r in frame.astype(object).itertuples(index=False)
        )


def test_new_licences_are_written_in_expiry_order_ties_as_read(tmp_path: Path) -> None:
    # the ledger's expiry indexes take their entries in runs (rows._FILE_ORDER)
    frame = pd.DataFrame(
        {
            "licence_no": ["L1", "L2", "L3", "L4", "L5"],
            "expiry_date": [
                dt.date(2027, 3, 1),
                dt.date(2026, 12, 31),
                dt.date(2027, 3, 1),
                dt.date(2026, 1, 5),
                dt.date(2026, 12, 31),
            ],
            "holder_name": ["a", "b", None, "d", "e"],
        }
    )
    staged = staging.prepare("ledger", frame, bulk=True, folder=tmp_path)
    lines = Path(str(staged.path)).read_text(encoding="utf-8").splitlines()
    assert lines == [
        "L4\t2026-01-05\td",
        "L2\t2026-12-31\tb",
        "L5\t2026-12-31\te",
        "L1\t2027-03-01\ta",
        "L3\t2027-03-01\t\\N",
    ]
    other = staging.prepare("staging_key", frame, bulk=True, folder=tmp_path)
    assert [line[:2] for line in Path(str(other.path)).read_text().splitlines()] == [
        "L1",
        "L2",
        "L3",
        "L4",
        "L5",
    ]


@pytest.mark.parametrize(
    "values, expected",
    [
        pytest.param(
            [dt.datetime(2026, 11, 24, 9, 30), None], ["2026-11-24 09:30:00", ""], id="datetime64"
        ),
        pytest.param([dt.date(2026, 11, 24), None], ["2026-11-24", ""], id="dates"),
        pytest.param([1, None], ["1", ""], id="numbers"),
    ],
)
def test_column_text_writes_values_as_isoformat_and_str_do(
    values: list[object], expected: list[str]
) -> None:
    series = (
        pd.Series(values) if isinstance(values[0], dt.datetime) else pd.Series(values, dtype=object)
    )
    text, null = staging.column_text(series)
    assert text.to_pylist() == expected and null.tolist() == [False, True]
