"""The vectorised masks and digests (masking.mask_ids, KeyRing.digest_array, protect_texts) give
byte for byte what the per-value ones give: the ledger already holds values made by those."""

from __future__ import annotations

import base64

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from licence_reminder import masking, protect
from licence_reminder.sync import rows

RING = protect.KeyRing.parse(
    {"current": "key01", "keys": {"key01": base64.b64encode(b"k" * 32).decode()}}, where="test"
)

TRICKY = [
    None,
    "",
    " ",
    "a",
    "12",
    "12345",
    "123456",  # six: all starred
    "1234567",  # seven: the first with a head and a tail
    "410522900101002",  # 15 digits
    "41052219900101001X",
    "41052219900101001x",
    " 41052219900101001X ",
    "\t410522199001010028\n",
    "\u3000410522199001010028\u3000",  # ideographic spaces, which str.strip() takes off
    "\x1c410522199001010028\x1f",  # so are these (str.isspace)
    "\xa0\u2028410522199001010028\u205f",
    "4105 2219 9001 0100 28",  # spaces inside stay
    "91410500MA44XXXX1Q",
    "张三丰",
    "中华人民共和国居民身份证",
    "𠀀𠀁𠀂𠀃𠀄𠀅𠀆𠀇",  # four bytes a character
    "410522199001010028\U0001f600",
    "e\u0301e\u0301e\u0301e\u0301",  # combining accents: code points, as Python counts
    "\u200b410522199001010028",  # zero-width space: not whitespace for str.strip()
]


def test_the_whitespace_list_is_what_str_strip_takes_off() -> None:
    assert masking.PY_WHITESPACE == "".join(chr(c) for c in range(0x110000) if chr(c).isspace())


def test_mask_ids_are_mask_id_on_tricky_values() -> None:
    assert masking.mask_ids(pa.array(TRICKY, type=pa.string())).to_pylist() == [
        masking.mask_id(v) for v in TRICKY
    ]


def test_mask_ids_take_any_string_array_shape() -> None:
    values = pa.array(TRICKY, type=pa.string())
    expected = [masking.mask_id(v) for v in TRICKY]
    assert masking.mask_ids(values.slice(3, 9)).to_pylist() == expected[3:12]  # an offset
    assert masking.mask_ids(values.cast(pa.large_string())).to_pylist() == expected
    assert masking.mask_ids(pa.chunked_array([values[:5], values[5:]])).to_pylist() == expected
    assert masking.mask_ids(pa.array([], type=pa.string())).to_pylist() == []


@settings(max_examples=300, deadline=None)
@given(st.lists(st.one_of(st.none(), st.text(max_size=25)), max_size=20))
def test_mask_ids_are_mask_id_on_any_text(values: list[str | None]) -> None:
    assert masking.mask_ids(pa.array(values, type=pa.string())).to_pylist() == [
        masking.mask_id(v) for v in values
    ]


def test_digest_array_is_digests() -> None:
    values = list(TRICKY)
    expected = RING.digests(values)
    assert RING.digest_array(pa.array(values, type=pa.string())).to_pylist() == expected
    sliced = pa.array(values, type=pa.string()).slice(4, 10)
    assert RING.digest_array(sliced).to_pylist() == expected[4:14]
    assert RING.digest_array(pa.array([], type=pa.string())).to_pylist() == []
    assert RING.digest_array(pa.array([None, None], type=pa.string())).to_pylist() == [None, None]


@settings(max_examples=100, deadline=None)
@given(st.lists(st.one_of(st.none(), st.text(max_size=25)), max_size=20))
def test_digest_array_is_digests_on_any_text(values: list[str | None]) -> None:
    assert RING.digest_array(pa.array(values, type=pa.string())).to_pylist() == RING.digests(values)


def _frame(text_dtype: object) -> pd.DataFrame:
    n = len(TRICKY)
    holder_types = ["person" if k % 3 == 0 else "org" for k in range(n)]
    return pd.DataFrame(
        {
            "licence_no": pd.Series([f"L{k}" for k in range(n)], dtype=text_dtype),
            "holder_type": pd.Series(holder_types, dtype=text_dtype),
            "holder_code": pd.Series(list(reversed(TRICKY)), dtype=text_dtype),
            "contact_id_no": pd.Series(TRICKY, dtype=text_dtype),
        }
    )


def _old_protect(frame: pd.DataFrame) -> pd.DataFrame:
    """protect() as it was before the masks were vectorised: per value in Python."""
    out = frame.copy(deep=False)
    for column, digest_column in protect.PROTECTED.items():
        values = frame[column]
        at = (
            protect.person_codes(frame)
            if column == "holder_code"
            else values.notna().to_numpy(dtype=bool)
        )
        digests = np.full(len(frame), None, dtype=object)
        if at.any():
            clear = values[at].to_numpy(dtype=object, na_value=None)
            digests[at] = RING.digests(clear)
            masked = values.to_numpy(dtype=object, na_value=None, copy=True)
            masked[at] = [masking.mask_id(v) for v in clear]
            out[column] = pd.Series(
                masked,
                index=frame.index,
                dtype=values.dtype if isinstance(values.dtype, pd.StringDtype) else object,
            )
        out[digest_column] = pd.Series(digests, index=frame.index, dtype=object)
    return out


@pytest.mark.parametrize(
    "text_dtype", [object, pd.StringDtype(storage="pyarrow", na_value=np.nan)], ids=str
)
def test_protect_gives_what_it_gave_per_value(text_dtype: object) -> None:
    frame = _frame(text_dtype)
    before, now = _old_protect(frame), protect.protect(frame, lambda: RING)
    pd.testing.assert_frame_equal(now, before)
    for column in (*protect.PROTECTED, *protect.PROTECTED.values()):
        assert [v if isinstance(v, str) else None for v in now[column]] == [
            v if isinstance(v, str) else None for v in before[column]
        ]


@pytest.mark.parametrize(
    "text_dtype", [object, pd.StringDtype(storage="pyarrow", na_value=np.nan)], ids=str
)
def test_protect_texts_are_the_load_files_texts_of_protect(text_dtype: object) -> None:
    frame = _frame(text_dtype)
    expected = protect.protect(frame, lambda: RING)
    out, texts = protect.protect_texts(frame, lambda: RING)
    assert list(out.columns) == list(expected.columns)
    assert set(texts) == {*protect.PROTECTED, *protect.PROTECTED.values()}
    for column in texts:
        text, null = texts[column]
        want_text, want_null = rows.column_text(expected[column])
        assert text.to_pylist() == want_text.to_pylist() and null.tolist() == want_null.tolist()
        got_text, got_null = rows.column_text(out[column])  # the frame says the same
        assert got_text.to_pylist() == want_text.to_pylist()
        assert got_null.tolist() == want_null.tolist()
