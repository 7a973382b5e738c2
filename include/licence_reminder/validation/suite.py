"""Validation of canonical licence chunks with Great Expectations Core 1.x.

Each chunk goes through two steps:

1. *Derivation* (pandas, vectorised): values are normalised (text stripped, holder type and status
   mapped to their codes, mobiles cleaned, dates parsed) and every rule GX cannot express itself
   (check characters, date parsing and plausibility, cross-field checks, duplicates) becomes a
   boolean column. Per-value Python (the reference rules in :mod:`.rules`) runs only for the few
   values the vectorised fast path does not pass, and to word their reasons.
2. *Validation* (GX): one ExpectationSuite — not-null for required fields, in-set for code lists
   and the catalogue, a regex for mobiles, in-set ``[True]`` for the derived columns — run with
   result format COMPLETE; ``unexpected_index_list`` of each expectation gives the failing rows,
   and the expectation's ``meta`` names the rule id.

A row is valid when no expectation lists it; otherwise every failing rule is reported.
"""

from __future__ import annotations

import collections
import datetime as dt
import logging
import math
import re
import threading
import unicodedata
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from licence_reminder.config import city_zone
from licence_reminder.keys import number_keys
from licence_reminder.records import (
    CANONICAL_COLUMNS,
    HOLDER_TYPES,
    REQUIRED_COLUMNS,
    SOURCE_KEY,
    STATUSES,
)
from licence_reminder.validation import rules as R
from licence_reminder.validation.duplicates import SUPERSEDED, TIE, WINS, Duplicates

if TYPE_CHECKING:
    from great_expectations.core.batch_definition import BatchDefinition
    from great_expectations.core.expectation_suite import ExpectationSuite

#: every failing row's index (``unexpected_index_list``: all the product reads of a result),
#: without the counts of the first failing values GX makes besides (about 0.035 s a GX run)
COMPLETE = {
    "result_format": "COMPLETE",
    "partial_unexpected_count": 0,
    "include_unexpected_rows": False,
    "return_unexpected_index_query": False,
}
_ORDINAL_1970 = dt.date(1970, 1, 1).toordinal()
_MAX_ORDINAL = dt.date.max.toordinal()
_TIME_COLUMNS = R.DATE_COLUMNS + R.DATETIME_COLUMNS
_TEXT_COLUMNS = tuple(c for c in CANONICAL_COLUMNS if c not in _TIME_COLUMNS)
_MEMO_LIMIT = 200_000
#: how MariaDB sends a DATETIME (no fraction) as text; ASCII digits only, zero-padded
_ISO_MOMENT = r"[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]{1,6})?"


@dataclass(frozen=True)
class RuleFailure:
    rule: str  # a rule id from .rules
    column: str
    message: str  # no unmasked personal data


@dataclass
class Rejection:
    row_number: int  # 1-based position within the whole extract (across chunks)
    licence_no: str | None
    raw: dict[str, str | None]  # original values as text, unmasked: protected quarantine only
    failures: list[RuleFailure]


@dataclass
class ChunkResult:
    #: every row loaded: those without failures and those that failed only WARN rules
    valid: pd.DataFrame
    rejected: list[Rejection]
    #: rule id -> rejected rows that failed it; ``warn:<rule id>`` -> loaded rows warned of it
    counts_by_rule: collections.Counter[str]
    #: the valid rows' source keys as read, when the chunk carries them
    valid_source_keys: np.ndarray | None = None
    #: where each valid row is in the chunk
    valid_at: np.ndarray | None = None
    #: the loaded rows' warnings: licence_no, rule, column_name, message (no personal value), and
    #: value: the failed column's value as given (unmasked: masked wherever it is shown)
    warnings: pd.DataFrame | None = None


#: how the counts of loaded rows warned of a rule are named beside those of rejected rows
WARNED_PREFIX = "warn:"


def _without_warned_values(
    normalised: dict[str, Column], warned: dict[int, list[RuleFailure]]
) -> dict[str, Column]:
    """The normalised columns with each warned row's failed values blanked, except where the
    ledger keeps them (rules.KEPT_WHEN_WARNED, within rules.STORED_WIDTH)."""
    blank: dict[str, list[int]] = collections.defaultdict(list)
    for pos, failures in warned.items():
        for f in failures:
            if f.column not in normalised:
                continue
            if f.rule not in R.KEPT_WHEN_WARNED:
                blank[f.column].append(pos)
            elif (width := R.STORED_WIDTH.get(f.column)) is not None:
                value = _value(normalised[f.column], pos)
                if value is not None and len(str(value)) > width:
                    blank[f.column].append(pos)
    if not blank:
        return normalised
    out = dict(normalised)
    for column, at in blank.items():
        values = normalised[column]
        if isinstance(values, pd.Series):
            mask = np.zeros(len(values), dtype=bool)
            mask[at] = True
            out[column] = values.mask(mask)
        else:
            values = values.copy()
            values[at] = None
            out[column] = values
    return out


# --- Great Expectations: one ephemeral context per process ----------------------------------------

_GX_LOCK = threading.Lock()
_GX_BATCH_DEFINITION: BatchDefinition | None = None


def gx_batch_definition() -> BatchDefinition:
    """The whole-dataframe batch definition of the process's ephemeral GX context (made once:
    importing GX and creating a context take seconds)."""
    global _GX_BATCH_DEFINITION
    with _GX_LOCK:
        if _GX_BATCH_DEFINITION is None:
            gx_log = logging.getLogger("great_expectations")
            if gx_log.level == logging.NOTSET:  # its import logs a dozen INFO lines per task
                gx_log.setLevel(logging.WARNING)
            import great_expectations as gx
            from great_expectations.execution_engine import pandas_execution_engine

            # GX fingerprints every batch frame (a hash of all its values) for its batch markers;
            # nothing reads the fingerprint of a chunk validated once and dropped, and it cost a
            # quarter of a second per 200,000 rows (GX 1.24; a threshold of 0 turns it off)
            pandas_execution_engine.HASH_THRESHOLD = 0
            from great_expectations.data_context.types.base import (
                DataContextConfig,
                InMemoryStoreBackendDefaults,
                ProgressBarsConfig,
            )

            config = DataContextConfig(
                store_backend_defaults=InMemoryStoreBackendDefaults(init_temp_docs_sites=False),
                progress_bars=ProgressBarsConfig(globally=False),
                analytics_enabled=False,  # no outbound calls from task workers
            )
            context = gx.get_context(mode="ephemeral", project_config=config)
            source = context.data_sources.add_pandas(name="licence_reminder")
            asset = source.add_dataframe_asset(name="canonical_chunk")
            _GX_BATCH_DEFINITION = asset.add_batch_definition_whole_dataframe("whole_chunk")
        return _GX_BATCH_DEFINITION


#: (rule id, column) of the derived boolean checks, in report order after the native ones.
_DERIVED: tuple[tuple[str, str], ...] = (
    *((R.text_value(c), c) for c in R.TEXT_LIMITS),
    *((R.name_digits(c), c) for c in sorted(R.NAME_COLUMNS)),
    *((R.date_format(c), c) for c in _TIME_COLUMNS),
    *((R.date_implausible(c), c) for c in _TIME_COLUMNS),
    (R.EXPIRY_BEFORE_ISSUE, "expiry_date"),
    (R.RESIDENT_ID_CHECK, "contact_id_no"),
    (R.RESIDENT_ID_CHECK, "holder_code"),
    (R.USCC_CHECK, "holder_code"),
    (R.HOLDER_TYPE_MISMATCH, "holder_code"),
    (R.DUPLICATE_LICENCE_NO, "licence_no"),
    (R.DUPLICATE_SUPERSEDED, "licence_no"),
    (R.DUPLICATE_IN_SOURCE, "licence_no"),
)


#: the GX frame's column holding whether every derived check passed, and its expectation's rule
_DERIVED_COLUMN, _DERIVED_RULE = "ok__derived", "derived"


def build_suite(catalogue_names: Iterable[str], name: str | None = None) -> ExpectationSuite:
    """The suite in code; every expectation's ``meta`` carries its rule id and column."""
    gx_batch_definition()  # an expectation suite needs the active context
    import great_expectations as gx
    import great_expectations.expectations as gxe

    suite = gx.ExpectationSuite(name=name or f"licence_chunk_{uuid.uuid4().hex[:12]}")

    def meta(rule: str, column: str) -> dict[str, str]:
        return {"rule": rule, "column": column}

    for col in REQUIRED_COLUMNS:
        suite.add_expectation(
            gxe.ExpectColumnValuesToNotBeNull(column=col, meta=meta(R.required(col), col))
        )
    suite.add_expectation(
        gxe.ExpectColumnValuesToBeInSet(
            column="holder_type",
            value_set=sorted(HOLDER_TYPES),
            meta=meta(R.HOLDER_TYPE_VALUE, "holder_type"),
        )
    )
    suite.add_expectation(
        gxe.ExpectColumnValuesToBeInSet(
            column="status", value_set=sorted(STATUSES), meta=meta(R.STATUS_VALUE, "status")
        )
    )
    suite.add_expectation(
        gxe.ExpectColumnValuesToMatchRegex(
            column="contact_mobile",
            regex=f"^{R.MOBILE_PATTERN}$",
            meta=meta(R.MOBILE_FORMAT, "contact_mobile"),
        )
    )
    suite.add_expectation(
        gxe.ExpectColumnValuesToBeInSet(
            column="licence_name",
            value_set=sorted(catalogue_names),
            meta=meta(R.LICENCE_NOT_IN_CATALOGUE, "licence_name"),
        )
    )
    # The checks derivation decided (check characters, dates, duplicates, …): one expectation
    # on their conjunction, which of them failed read from the checks themselves. Seventeen
    # expectations, one per check, cost GX two thirds of its run, whatever the rows.
    suite.add_expectation(
        gxe.ExpectColumnValuesToBeInSet(
            column=_DERIVED_COLUMN,
            value_set=[True],
            meta={**meta(_DERIVED_RULE, "*"), "checks": [f"{r} ({c})" for r, c in _DERIVED]},
        )
    )
    return suite


def _holder_type(value: object) -> str | None:
    """The code, or the stripped original when unknown (GX's in-set then reports it)."""
    return R.normalise_holder_type(value) or R.as_text(value)


def _status(value: object) -> str | None:
    return R.normalise_status(value) or R.as_text(value)


# --- derivation helpers ---------------------------------------------------------------------------


def _as_text(s: pd.Series) -> pd.Series:
    """Driver values as stripped text (pandas ``str`` dtype, NaN for null or empty)."""
    dtype = s.dtype
    if isinstance(dtype, pd.StringDtype):
        t = s
    elif (
        dtype == object
        and pd.api.types.infer_dtype(s, skipna=True) in ("string", "empty")
        or pd.api.types.is_integer_dtype(dtype)
    ):
        t = s.astype("str")
    else:  # mixed objects, floats (an integer column with a null), datetimes
        t = s.map(R.as_text).astype("str")
    t = t.str.strip()
    return t.where(t != "")


def _iso_moments(s: pd.Series) -> pd.Series | None:
    """A text column as datetime64 when every value is a real moment written exactly as
    ``YYYY-MM-DD hh:mm:ss``, with or without a fraction of a second (a DATETIME or TIMESTAMP as
    text: stamps rarely repeat, so parsing them one distinct value at a time would cost as much
    as there are rows); else None, and each value goes through rules.py as before. Those values
    mean the same in either reading."""
    if not (
        isinstance(s.dtype, pd.StringDtype)
        or (s.dtype == object and pd.api.types.infer_dtype(s, skipna=True) == "string")
    ):
        return None
    present = s.notna()
    if not s[present].str.fullmatch(_ISO_MOMENT).all():
        return None
    moments = pd.to_datetime(s, format="ISO8601", errors="coerce")
    return moments if int(moments.notna().sum()) == int(present.sum()) else None


def _objects(t: pd.Series) -> np.ndarray:
    return np.array(t.to_numpy(dtype=object, na_value=None), dtype=object)


#: a normalised column: text as a pandas ``str`` Series (Arrow-backed, NaN where missing), a
#: datetime64 Series, or a numpy object array (code lists, dates: few distinct values, shared)
Column = "pd.Series | np.ndarray"


def _value(column: Column, i: int) -> Any:
    """One value of a normalised column, None where missing."""
    value = column.iat[i] if isinstance(column, pd.Series) else column[i]
    missing = (
        value is None
        or value is pd.NA
        or value is pd.NaT
        or (isinstance(value, float) and math.isnan(value))
    )
    return None if missing else value


def _values(column: Column, positions: np.ndarray) -> list[Any]:
    """The values of a normalised column at ``positions``, None where missing (as :func:`_value`,
    for many rows at once: pandas' scalar access costs microseconds a value)."""
    if not len(positions):
        return []
    picked = column.iloc[positions] if isinstance(column, pd.Series) else column[positions]
    if isinstance(picked, pd.Series):
        picked = picked.to_numpy(dtype=object, na_value=None)
    return [
        None
        if v is None or v is pd.NA or v is pd.NaT or (isinstance(v, float) and math.isnan(v))
        else v
        for v in picked.tolist()
    ]


def _take(column: Column, keep: np.ndarray) -> pd.Series:
    if isinstance(column, pd.Series):
        return column[keep].reset_index(drop=True)
    return pd.Series(column[keep], dtype=object)


def _dates(ordinals: np.ndarray) -> pd.Series:
    """Day ordinals (-1: none) as an Arrow date32 Series: no Python object per value."""
    import pyarrow as pa

    days = pa.array((ordinals - _ORDINAL_1970).astype(np.int32), type=pa.int32(), mask=ordinals < 0)
    return pd.Series(pd.arrays.ArrowExtensionArray(days.cast(pa.date32())))


def _patched(t: pd.Series, fixes: dict[int, str | None]) -> pd.Series:
    """``t`` with the values at some positions replaced (the few rules.py normalised)."""
    if not fixes:
        return t
    t = t.copy()
    t.iloc[list(fixes)] = list(fixes.values())
    return t


def _arrow_text(t: pd.Series) -> Any:
    """A text Series as one pyarrow string array (nulls where missing)."""
    import pyarrow as pa

    array = (
        pa.array(t.array)
        if isinstance(t.dtype, pd.StringDtype)
        else pa.array(t.to_numpy(dtype=object, na_value=None), type=pa.string())
    )
    if isinstance(array, pa.ChunkedArray):
        array = array.combine_chunks()
    return array if array.type == pa.string() else array.cast(pa.string())


def _text_problems(
    column: str, t: pd.Series, raw: pd.Series | None
) -> dict[str, tuple[np.ndarray, dict[int, str]]]:
    """(failing, reasons) of rules.text_problem (``text_value``) and, for a name,
    rules.name_problem (``name_digits``), asked only of the few values that can fail: too long,
    read from bytes (undecodable ones became U+FFFD), or — in a name — long enough to hold an ID
    number or a mobile."""
    lengths = t.str.len().fillna(0).to_numpy()
    suspect = lengths > R.TEXT_LIMITS[column]
    if (
        column in R.NAME_COLUMNS
    ):  # one vectorised pass: asking rules.py of every long name costs seconds
        suspect |= (
            t.str.contains(f"[0-9０-９]{{{R.NAME_DIGIT_RUN}}}", regex=True)
            .fillna(False)
            .to_numpy(dtype=bool)
        )
    if (
        raw is not None
        and raw.dtype == object
        and pd.api.types.infer_dtype(raw, skipna=True) != "string"
    ):
        suspect |= raw.map(lambda v: isinstance(v, bytes)).to_numpy(dtype=bool)
    checks = {R.text_value(column): R.text_problem}
    if column in R.NAME_COLUMNS:
        checks[R.name_digits(column)] = R.name_problem
    out = {rule: (np.zeros(len(t), dtype=bool), {}) for rule in checks}
    for i in np.flatnonzero(suspect):
        value = _value(t, int(i))
        if value is None:
            continue
        for (
            rule,
            problem_of,
        ) in checks.items():  # a value that cannot be stored is not also a bad name
            if (problem := problem_of(column, value)) is not None:
                out[rule][0][i] = True
                out[rule][1][int(i)] = problem
                break
    return out


def normalised_text(s: pd.Series) -> np.ndarray:
    """Driver values as the validator reads text fields (licence numbers, names): stripped, None
    for null or empty."""
    return _objects(_as_text(s))


def _per_distinct(s: pd.Series | None, n: int, fn: Callable[[object], object]) -> np.ndarray:
    """``fn`` applied once per distinct value (code lists, licence names repeat a lot)."""
    if s is None:
        return np.full(n, fn(None), dtype=object)
    codes, uniques = pd.factorize(s)
    table = np.empty(len(uniques) + 1, dtype=object)  # the last slot is for null (code -1)
    table[:-1] = [fn(u) for u in uniques]
    table[-1] = fn(None)
    return table[codes]


def _fixed_width(t: pd.Series, width: int) -> tuple[np.ndarray, np.ndarray]:
    """(positions, uint8 matrix) of the ASCII values of exactly ``width`` characters, read
    straight from the Arrow buffers."""
    import pyarrow.compute as pc

    text = _arrow_text(t)
    size = pc.fill_null(pc.binary_length(text), 0).to_numpy()
    chars = pc.fill_null(pc.utf8_length(text), 0).to_numpy()
    idx = np.flatnonzero((size == width) & (chars == width))  # as many bytes as characters: ASCII
    if not len(idx):
        return idx, np.empty((0, width), dtype=np.uint8)
    _validity, offsets, data = text.buffers()
    starts = np.frombuffer(offsets, dtype=np.int32)[text.offset : text.offset + len(text)][idx]
    body = np.frombuffer(data, dtype=np.uint8)
    return idx, body[starts[:, None] + np.arange(width)]


_RID_WEIGHTS_F = np.array(R.RESIDENT_ID_WEIGHTS, dtype=np.float32)
_YMD_POWERS = 10.0 ** np.arange(7, -1, -1)
_RID_CHECKS = np.frombuffer(R.RESIDENT_ID_CHECKS.encode(), dtype=np.uint8)
_USCC_WEIGHTS = np.array(R.USCC_WEIGHTS, dtype=np.float32)
_USCC_ALPHA = np.frombuffer(R.USCC_ALPHABET.encode(), dtype=np.uint8)
_USCC_INDEX = np.zeros(256, dtype=np.float32)
_USCC_INDEX[_USCC_ALPHA] = np.arange(len(R.USCC_ALPHABET))
_USCC_CHAR = np.zeros(256, dtype=bool)
_USCC_CHAR[_USCC_ALPHA] = True
_DAYS_IN_MONTH = np.array([0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31], dtype=np.int64)
_ZERO, _NINE, _X = ord("0"), ord("9"), ord("X")


def _fast_resident_id_ok(t: pd.Series, today: dt.date) -> np.ndarray:
    """True where the value is certainly a valid resident ID; False means "ask rules.py"."""
    ok = np.zeros(len(t), dtype=bool)
    idx, b = _fixed_width(t, 18)
    if not len(idx):
        return ok
    d = b - np.uint8(_ZERO)  # a byte below '0' wraps above 9: not a digit either way
    is_digit = d <= 9
    form_ok = is_digit[:, :17].all(axis=1) & (is_digit[:, 17] | (b[:, 17] == _X))
    digits = np.where(is_digit, d, 0)
    # sums of small integers, exact in floating point, where numpy's matrix product is BLAS's
    check = (digits[:, :17].astype(np.float32) @ _RID_WEIGHTS_F).astype(np.int64) % 11
    check_ok = _RID_CHECKS[check] == b[:, 17]
    ymd = (digits[:, 6:14].astype(np.float64) @ _YMD_POWERS).astype(np.int64)
    year, month, day = ymd // 10000, ymd // 100 % 100, ymd % 100
    leap = ((year % 4 == 0) & (year % 100 != 0)) | (year % 400 == 0)
    month_days = _DAYS_IN_MONTH[np.clip(month, 0, 12)] + ((month == 2) & leap)
    date_ok = (month >= 1) & (month <= 12) & (day >= 1) & (day <= month_days)
    date_ok &= (ymd >= 19000101) & (ymd <= today.year * 10000 + today.month * 100 + today.day)
    ok[idx] = form_ok & check_ok & date_ok
    return ok


def _fast_uscc_ok(t: pd.Series) -> np.ndarray:
    """True where the value is certainly a valid USCC; False means "ask rules.py"."""
    ok = np.zeros(len(t), dtype=bool)
    idx, b = _fixed_width(t, 18)
    if not len(idx):
        return ok
    form_ok = _USCC_CHAR[b].all(axis=1) & (b[:, 0] != _ZERO)
    form_ok &= ((b[:, 2:8] >= _ZERO) & (b[:, 2:8] <= _NINE)).all(axis=1)
    total = (_USCC_INDEX[b[:, :17]] @ _USCC_WEIGHTS).astype(np.int64)
    ok[idx] = form_ok & (_USCC_ALPHA[(31 - total % 31) % 31] == b[:, 17])
    return ok


def _confirm(
    values: Column,
    fast_ok: np.ndarray,
    applies: np.ndarray,
    problem: Callable[[object], str | None],
    column: str,
    fixes: dict[int, str | None],
) -> tuple[np.ndarray, dict[int, str]]:
    """Rules.py decides every applicable value the fast path did not pass; returns (ok, reasons).

    ``ok`` is True where the rule does not apply, so GX's in-set [True] flags only failures.
    ``fixes`` (position -> value) gets the form rules.py accepted (identity numbers).
    """
    ok = ~applies | fast_ok
    reasons: dict[int, str] = {}
    bad = np.flatnonzero(~ok)
    for i, given in zip(bad.tolist(), _values(values, bad), strict=True):
        value = fixes.get(i, given)
        reason = problem(value)
        if reason is None:
            ok[i] = True
            # rules.py reads full-width characters and inner spaces too: keep the form it validated
            fixes[int(i)] = R.id_text(value)
        else:
            reasons[int(i)] = f"{column}: {reason}"
    return ok, reasons


@dataclass
class _TimeColumn:
    present: np.ndarray  # a non-empty raw value was given
    values: Column  # date / naive datetime / None (object), or a datetime64 Series
    ordinals: np.ndarray  # day ordinal, -1 where not parsed
    reasons: dict[int, str]  # date_format reasons by row position


@dataclass
class Derived:
    """The outcome of step 1: normalised columns, GX's frame and reasons for failures."""

    n: int
    normalised: dict[str, Column]
    gx_frame: pd.DataFrame
    #: (rule, column) of each derived check -> whether each row passed it
    checks: dict[tuple[str, str], np.ndarray] = field(default_factory=dict)
    reasons: dict[tuple[str, str], dict[int, str]] = field(default_factory=dict)


def repeated(numbers: Any, keys: np.ndarray) -> np.ndarray:
    """Whether each of ``numbers`` (Arrow strings without nulls; ``keys`` their
    :func:`number_keys`) is the same as one before it. Sorting the keys finds the candidates;
    the few rows sharing a key are compared as text (a shared key is nearly always a duplicate)."""
    out = np.zeros(len(keys), dtype=bool)
    if len(keys) < 2:
        return out
    order = np.argsort(keys, kind="stable")
    ranked = keys[order]
    shared = np.flatnonzero(ranked[1:] == ranked[:-1])
    if not len(shared):
        return out
    candidates = np.unique(np.concatenate([order[shared], order[shared + 1]]))
    first: set[str] = set()
    for i in candidates.tolist():  # in row order: the first of equal numbers is not repeated
        number = numbers[i].as_py()
        if number in first:
            out[i] = True
        else:
            first.add(number)
    return out


class SeenNumbers:
    """The licence numbers of the extract so far: their 64-bit keys, sorted, and the numbers
    themselves as Arrow strings, which confirm a key's match exactly. A Python set of a worker's
    500,000 numbers took about 50 MB; this takes about 17."""

    def __init__(self, numbers: Any = ()) -> None:
        import pyarrow as pa

        self._parts: list[Any] = []
        self._keys = np.zeros(0, dtype=np.uint64)
        self._where = np.zeros(0, dtype=np.int64)  # where each sorted key's number is, in all()
        self._all: Any = None
        numbers = [n for n in numbers if n]
        if numbers:
            self.add(pa.array(numbers, type=pa.string()))

    def __len__(self) -> int:
        return len(self._where)

    def all(self) -> Any:
        """Every number added, as one Arrow array."""
        import pyarrow as pa

        if self._all is None:
            self._all = (
                pa.concat_arrays(self._parts) if self._parts else pa.array([], type=pa.string())
            )
            self._parts = [self._all]
        return self._all

    def contains(self, numbers: Any, keys: np.ndarray | None = None) -> np.ndarray:
        """Whether each of ``numbers`` (an Arrow string array without nulls; ``keys`` their
        :func:`number_keys`, when known) was added before."""
        found = np.zeros(len(numbers), dtype=bool)
        if not len(self._keys) or not len(numbers):
            return found
        keys = number_keys(numbers) if keys is None else keys
        at = np.minimum(np.searchsorted(self._keys, keys), len(self._keys) - 1)
        for i in np.flatnonzero(self._keys[at] == keys):  # few: a key is shared only by a duplicate
            found[i] = self._holds(numbers[int(i)].as_py(), keys[i], int(at[i]))
        return found

    def _holds(self, number: str, key: np.uint64, at: int) -> bool:
        every = self.all()
        while at < len(self._keys) and self._keys[at] == key:  # every number of that key
            if every[int(self._where[at])].as_py() == number:
                return True
            at += 1
        return False

    def add(self, numbers: Any, keys: np.ndarray | None = None) -> None:
        if not len(numbers):
            return
        keys = number_keys(numbers) if keys is None else keys
        start = len(self._where)
        self._parts.append(numbers)
        self._all = None
        merged = np.concatenate([self._keys, keys])
        where = np.concatenate([self._where, np.arange(start, start + len(keys), dtype=np.int64)])
        order = np.argsort(merged, kind="stable")  # two sorted runs, merged
        self._keys, self._where = merged[order], where[order]


class Validator:
    """Validates the chunks of one department's extract; keeps state across chunks."""

    def __init__(self, *, catalogue_names: set[str], today: dt.date, tz: str | None = None) -> None:
        self.today = today
        self.tz = tz or city_zone()
        self.catalogue_names = frozenset(catalogue_names)
        # Names are matched after NFKC and whitespace removal (（餐饮） vs (餐饮)), and a valid row
        # carries the catalogue's own spelling so that it joins with the catalogue in the ledger.
        self._catalogue_keys = {self._name_key(n): n for n in self.catalogue_names}
        lo, hi = R.plausible_range(today)
        self._plausible = (lo.toordinal(), hi.toordinal())
        self._rows_seen = 0
        self._licence_nos = SeenNumbers()
        # Licence numbers the whole source holds more than once, and which row of each is
        # loaded (duplicates.scan): decided from the whole extract, the same in every run.
        self.duplicates = Duplicates()
        self._memo: dict[str, dict[Any, tuple[Any, int, str | None]]] = {"date": {}, "datetime": {}}
        self._suite = build_suite(self.catalogue_names)
        self._order = {self._key(e.meta): k for k, e in enumerate(self._suite.expectations)}
        self._totals: collections.Counter[str] = collections.Counter(rows=0, valid=0, rejected=0)

    @staticmethod
    def _key(meta: Mapping[str, Any] | None) -> tuple[str, str]:
        """(rule id, column) of an expectation, from its meta."""
        assert meta is not None
        return str(meta["rule"]), str(meta["column"])

    @staticmethod
    def _name_key(name: str) -> str:
        return re.sub(r"\s+", "", unicodedata.normalize("NFKC", name))

    @property
    def licence_nos(self) -> Any:
        """Every licence number (normalised) of the extract so far, valid or rejected, as one
        Arrow array."""
        return self._licence_nos.all()

    def read_as_before(self, numbers: Any) -> None:
        """Rows not validated again (a full run's rows the ledger holds exactly as read; Arrow
        strings of their licence numbers): counted as read and valid, their numbers seen, so that
        a later row repeating one is a duplicate all the same."""
        self._licence_nos.add(numbers)
        self._totals.update(rows=len(numbers), valid=len(numbers))

    @property
    def totals(self) -> collections.Counter[str]:
        """rows, valid, rejected, and rejected rows by rule id, over every chunk so far."""
        return collections.Counter(self._totals)

    # --- step 1 -----------------------------------------------------------------------------

    def _time_column(self, s: pd.Series | None, n: int, kind: str) -> _TimeColumn:
        if s is None:
            none = np.full(n, None, dtype=object)
            return _TimeColumn(np.zeros(n, bool), none, np.full(n, -1, np.int64), {})
        if pd.api.types.is_datetime64_any_dtype(s.dtype):
            try:
                return self._time_from_datetime64(s, kind)
            except (ValueError, OverflowError):
                pass  # an instant beyond year 9999 in Beijing: let rules.py word it, value by value
        if kind == "datetime" and (moments := _iso_moments(s)) is not None:
            return self._time_from_datetime64(moments, kind)
        codes, uniques = pd.factorize(s)
        memo = self._memo[kind]
        if len(memo) > _MEMO_LIMIT:
            memo.clear()
        parsed: list[tuple[Any, int, str | None]] = []
        for u in uniques:
            hit = memo.get(u)
            if hit is None:
                hit = memo[u] = self._parse_one(u, kind)
            parsed.append(hit)
        # one extra slot at the end stands for the null code -1
        table_values = np.array([p[0] for p in parsed] + [None], dtype=object)
        table_ord = np.array([p[1] for p in parsed] + [-1], dtype=np.int64)
        table_present = np.array([p[1] >= 0 or p[2] is not None for p in parsed] + [False])
        values, ordinals, present = table_values[codes], table_ord[codes], table_present[codes]
        bad_codes = {k for k, p in enumerate(parsed) if p[2] is not None}
        reasons: dict[int, str] = {}
        if bad_codes:
            for i in np.flatnonzero(np.isin(codes, list(bad_codes))):
                reasons[int(i)] = str(parsed[codes[i]][2])
        return _TimeColumn(present, values, ordinals, reasons)  # type: ignore[arg-type]

    def _parse_one(self, value: Any, kind: str) -> tuple[Any, int, str | None]:
        """(date or datetime, ordinal, reason): ordinal -1 and reason None mean empty."""
        if isinstance(value, str) and not value.strip():
            return None, -1, None
        try:
            day, moment = R.parse_parts(value, tz=self.tz)
        except ValueError as exc:
            return None, -1, str(exc)
        return (day if kind == "date" else moment), day.toordinal(), None

    def _time_from_datetime64(self, s: pd.Series, kind: str) -> _TimeColumn:
        if getattr(s.dtype, "tz", None) is not None:
            s = s.dt.tz_convert(self.tz).dt.tz_localize(None)
        present = s.notna().to_numpy()
        days = s.to_numpy().astype("datetime64[D]").astype(np.int64)
        ordinals = np.where(present, days + _ORDINAL_1970, -1)
        if (ordinals > _MAX_ORDINAL).any():
            raise OverflowError("beyond year 9999")  # Python's dates end there: rules.py words it
        if kind == "datetime":  # stamps rarely repeat: kept as they are, no object per value
            return _TimeColumn(present, s.reset_index(drop=True), ordinals, {})
        codes, uniques = pd.factorize(ordinals)  # dates repeat: one date object per distinct day
        table = np.array(
            [dt.date.fromordinal(int(o)) if o >= 0 else None for o in uniques], dtype=object
        )
        return _TimeColumn(present, table[codes], ordinals, {})

    def derive(self, chunk: pd.DataFrame) -> Derived:
        """Step 1 only (also what the benchmark's pure-Python figure measures)."""
        n = len(chunk)
        frame = chunk.reset_index(drop=True)

        def col(c: str) -> pd.Series | None:
            return frame[c] if c in frame.columns else None

        def text(c: str) -> pd.Series:
            s = col(c)
            if s is None:
                return pd.Series(np.nan, index=frame.index, dtype="str")
            return _as_text(s)

        out: dict[str, Column] = {}
        gx: dict[str, Any] = {}
        checks: dict[tuple[str, str], np.ndarray] = {}  # (rule, column) -> passed, per row
        reasons: dict[tuple[str, str], dict[int, str]] = {}

        for c in ("licence_no", "holder_name", "contact_name"):
            t = text(c)
            out[c] = t
            if c in REQUIRED_COLUMNS:
                gx[c] = t
            for rule, (bad, why) in _text_problems(c, t, col(c)).items():
                checks[(rule, c)] = ~bad
                reasons[(rule, c)] = why

        # code lists and names repeat: normalise each distinct value once
        out["licence_name"] = _per_distinct(col("licence_name"), n, self._licence_name)
        out["holder_type"] = _per_distinct(col("holder_type"), n, _holder_type)
        out["status"] = _per_distinct(col("status"), n, _status)
        for c in ("licence_name", "holder_type", "status"):
            gx[c] = pd.Series(out[c], dtype=object)

        # mobile: most values are already 11 clean digits; only the rest is cleaned in Python
        mobile_text = text("contact_mobile")
        clean = mobile_text.str.fullmatch(R.MOBILE_PATTERN).fillna(False).to_numpy(dtype=bool)
        mobile_reasons: dict[int, str] = {}
        cleaned: dict[int, str | None] = {}
        unclean = np.flatnonzero(~clean & mobile_text.notna().to_numpy())
        for i, raw in zip(unclean.tolist(), _values(mobile_text, unclean), strict=True):
            cleaned[i] = fixed = R.normalise_mobile(raw)
            if fixed is not None and not re.fullmatch(R.MOBILE_PATTERN, fixed):
                mobile_reasons[i] = f"contact_mobile: {R.mobile_problem(raw)}"
        out["contact_mobile"] = gx["contact_mobile"] = _patched(mobile_text, cleaned)
        reasons[(R.MOBILE_FORMAT, "contact_mobile")] = mobile_reasons

        # identity numbers
        ids = {c: text(c).str.upper() for c in ("holder_code", "contact_id_no")}
        rid_problem = self._resident_id_problem
        cid_fast = _fast_resident_id_ok(ids["contact_id_no"], self.today)
        cid_fixes: dict[int, str | None] = {}
        ok, why = _confirm(
            ids["contact_id_no"],
            cid_fast,
            ids["contact_id_no"].notna().to_numpy(),
            rid_problem,
            "contact_id_no",
            cid_fixes,
        )
        out["contact_id_no"] = _patched(ids["contact_id_no"], cid_fixes)
        checks[(R.RESIDENT_ID_CHECK, "contact_id_no")] = ok
        reasons[(R.RESIDENT_ID_CHECK, "contact_id_no")] = why

        code_fixes: dict[int, str | None] = {}

        def code(i: int) -> Any:
            return code_fixes.get(i, _value(ids["holder_code"], i))

        has_code = ids["holder_code"].notna().to_numpy()
        person = has_code & (out["holder_type"] == "person")
        org = has_code & (out["holder_type"] == "org")
        rid_fast = _fast_resident_id_ok(ids["holder_code"], self.today)
        uscc_fast = _fast_uscc_ok(ids["holder_code"])
        rid_ok, why = _confirm(
            ids["holder_code"], rid_fast, person, rid_problem, "holder_code", code_fixes
        )
        checks[(R.RESIDENT_ID_CHECK, "holder_code")] = rid_ok
        reasons[(R.RESIDENT_ID_CHECK, "holder_code")] = why
        uscc_ok, why = _confirm(
            ids["holder_code"], uscc_fast, org, R.uscc_problem, "holder_code", code_fixes
        )
        checks[(R.USCC_CHECK, "holder_code")] = uscc_ok
        reasons[(R.USCC_CHECK, "holder_code")] = why
        out["holder_code"] = _patched(ids["holder_code"], code_fixes)
        # a mismatch is a code that is valid as the *other* kind of number
        person_bad, org_bad = person & ~rid_ok, org & ~uscc_ok
        looks_uscc, looks_rid = uscc_fast.copy(), rid_fast.copy()
        for i in np.flatnonzero(person_bad & ~uscc_fast):
            looks_uscc[i] = R.uscc_problem(code(int(i))) is None
        for i in np.flatnonzero(org_bad & ~rid_fast):
            looks_rid[i] = rid_problem(code(int(i))) is None
        mismatch = (person_bad & looks_uscc) | (org_bad & looks_rid)
        checks[(R.HOLDER_TYPE_MISMATCH, "holder_code")] = ~mismatch
        reasons[(R.HOLDER_TYPE_MISMATCH, "holder_code")] = {
            int(i): (
                "holder_code: holder_type is person but the code is a valid unified social "
                "credit code"
                if person[i]
                else "holder_code: holder_type is org but the code is a valid resident ID number"
            )
            for i in np.flatnonzero(mismatch)
        }
        # a code valid as the other kind fails only the mismatch, not also that kind's check
        for ok_, why_, of in (
            (rid_ok, reasons[(R.RESIDENT_ID_CHECK, "holder_code")], person),
            (uscc_ok, reasons[(R.USCC_CHECK, "holder_code")], org),
        ):
            for i in np.flatnonzero(mismatch & of):
                ok_[i] = True
                why_.pop(int(i), None)

        # dates
        lo, hi = self._plausible
        times: dict[str, _TimeColumn] = {}
        for c in _TIME_COLUMNS:
            kind = "datetime" if c in R.DATETIME_COLUMNS else "date"
            tc = times[c] = self._time_column(col(c), n, kind)
            out[c] = _dates(tc.ordinals) if kind == "date" else tc.values
            if c in REQUIRED_COLUMNS:  # GX's not-null: was something given, parsed or not
                gx[c] = pd.Series(np.where(tc.present, True, None), dtype=object)
            fmt_ok = np.ones(n, dtype=bool)
            fmt_ok[np.fromiter(tc.reasons, dtype=np.int64, count=len(tc.reasons))] = False
            checks[(R.date_format(c), c)] = fmt_ok
            reasons[(R.date_format(c), c)] = {i: f"{c}: {r}" for i, r in tc.reasons.items()}
            bad = (tc.ordinals >= 0) & ((tc.ordinals < lo) | (tc.ordinals > hi))
            checks[(R.date_implausible(c), c)] = ~bad
            reasons[(R.date_implausible(c), c)] = {
                int(i): f"{c}: "
                + str(
                    R.date_plausibility_problem(
                        dt.date.fromordinal(int(tc.ordinals[i])), self.today
                    )
                )
                for i in np.flatnonzero(bad)
            }
        iss, exp = times["issue_date"].ordinals, times["expiry_date"].ordinals
        before = (iss >= 0) & (exp >= 0) & (exp < iss)
        checks[(R.EXPIRY_BEFORE_ISSUE, "expiry_date")] = ~before
        reasons[(R.EXPIRY_BEFORE_ISSUE, "expiry_date")] = {
            int(i): (
                f"expiry_date {dt.date.fromordinal(int(exp[i])).isoformat()} is before "
                f"issue_date {dt.date.fromordinal(int(iss[i])).isoformat()}"
            )
            for i in np.flatnonzero(before)
        }

        # duplicates: what duplicates.scan decided for the numbers the whole source holds twice
        import pyarrow as pa
        import pyarrow.compute as pc

        numbers = out["licence_no"]
        present = np.flatnonzero(numbers.notna().to_numpy())
        listed = _arrow_text(numbers.iloc[present])
        keys = number_keys(listed)
        earlier = self._licence_nos.contains(listed, keys)
        earlier |= repeated(listed, keys)
        self._licence_nos.add(listed, keys)
        verdicts = {
            rule: (np.zeros(n, dtype=bool), {})
            for rule in (R.DUPLICATE_LICENCE_NO, R.DUPLICATE_SUPERSEDED, R.DUPLICATE_IN_SOURCE)
        }
        rule_of = {
            TIE: R.DUPLICATE_LICENCE_NO,
            SUPERSEDED: R.DUPLICATE_SUPERSEDED,
            WINS: R.DUPLICATE_IN_SOURCE,
        }
        decided = np.zeros(len(present), dtype=bool)
        if len(self.duplicates):
            decided = np.asarray(
                pc.is_in(
                    listed, value_set=pa.array(sorted(self.duplicates.winners), type=pa.string())
                ),
                dtype=bool,
            )
            stamps = times["source_updated_at"].values
            keys = frame[SOURCE_KEY].to_numpy(dtype=object) if SOURCE_KEY in frame.columns else None
            for j in np.flatnonzero(decided).tolist():  # few: the rows of duplicated numbers
                i, number = int(present[j]), listed[j].as_py()
                stamp = _value(stamps, i)
                stamp = stamp.to_pydatetime() if isinstance(stamp, pd.Timestamp) else stamp
                verdict = self.duplicates.verdict(
                    number, stamp, None if keys is None else R.as_text(keys[i])
                )
                failing, why = verdicts[rule_of[verdict]]
                failing[i] = True
                why[i] = self.duplicates.reason(number, verdict)
        # held twice in this extract though the scan did not see it so: the source changed meanwhile
        failing, why = verdicts[R.DUPLICATE_LICENCE_NO]
        for i in present[earlier & ~decided].tolist():
            failing[i] = True
            why[i] = (
                "licence_no: the same licence number appeared earlier in this extract, though "
                "not when the run began (the source changed while it was read): the next run "
                "decides which row is loaded"
            )
        for rule, (failing, why) in verdicts.items():
            checks[(rule, "licence_no")] = ~failing
            reasons[(rule, "licence_no")] = why

        gx[_DERIVED_COLUMN] = (
            np.logical_and.reduce([checks[k] for k in _DERIVED]) if n else np.ones(0, bool)
        )
        return Derived(
            n=n, normalised=out, gx_frame=pd.DataFrame(gx), checks=checks, reasons=reasons
        )

    def _licence_name(self, value: object) -> str | None:
        s = R.as_text(value)
        return None if s is None else self._catalogue_keys.get(self._name_key(s), s)

    def _resident_id_problem(self, value: object) -> str | None:
        return R.resident_id_problem(value, today=self.today)

    # --- step 2 -----------------------------------------------------------------------------

    def validate(self, chunk: pd.DataFrame) -> ChunkResult:
        """Validates one chunk of canonical rows (missing optional columns count as null).

        Row numbers and duplicate detection carry over from earlier chunks of this Validator.
        """
        return self.validate_many([chunk])[0]

    def validate_many(
        self, chunks: list[pd.DataFrame], positions: list[np.ndarray] | None = None
    ) -> list[ChunkResult]:
        """Validates chunks in order, as :meth:`validate` one after the other would, with one Great
        Expectations run over them all: GX's cost is mostly per run (about 0.3 s here for the 27
        expectations, whatever the rows), not per row. ``positions``: where each chunk's rows are
        in the extract (0-based; default: right after the rows validated before), which a
        rejected row's number says."""
        derived = [self.derive(chunk) for chunk in chunks]
        hits: list[dict[int, list[RuleFailure]]] = [collections.defaultdict(list) for _ in chunks]
        starts = np.cumsum([0] + [d.n for d in derived])
        if starts[-1]:
            from great_expectations.validator.v1_validator import Validator as GxValidator

            frame = (
                derived[0].gx_frame
                if len(derived) == 1
                else pd.concat([d.gx_frame for d in derived], ignore_index=True)
            )
            # What Batch.validate runs, without get_batch first: that loaded the frame once for
            # the Batch and the validator loaded it again (≈0.06 s of GX's ≈0.25 s per chunk).
            result = GxValidator(
                gx_batch_definition(),
                result_format=COMPLETE,
                batch_parameters={"dataframe": frame},
            ).validate_expectation_suite(self._suite)
            del frame
            # in suite order, so that each row's failures come out in that order
            ordered = sorted(
                result.results, key=lambda r: self._order[self._key(r.expectation_config.meta)]
            )
            for r in ordered:
                info = r.exception_info or {}
                if info.get("raised_exception"):
                    raise RuntimeError(
                        f"Great Expectations could not evaluate {r.expectation_config.type}: "
                        f"{info.get('exception_message')}"
                    )
                if r.success:
                    continue
                rule, column = self._key(r.expectation_config.meta)
                worded: dict[object, str] = {}  # code-list values repeat: word each reason once
                unexpected = np.asarray(r.result.get("unexpected_index_list") or [], dtype=np.int64)
                for at, k in zip(
                    unexpected.tolist(),
                    (np.searchsorted(starts, unexpected, side="right") - 1).tolist(),
                    strict=True,
                ):
                    pos = at - int(starts[k])
                    if (
                        rule == _DERIVED_RULE
                    ):  # each derived check the row failed, in _DERIVED order
                        hits[k][pos].extend(
                            RuleFailure(
                                rule_,
                                column_,
                                derived[k].reasons.get((rule_, column_), {}).get(pos)
                                or self._native_reason(rule_, column_, None),
                            )
                            for rule_, column_ in _DERIVED
                            if not derived[k].checks[(rule_, column_)][pos]
                        )
                        continue
                    message = derived[k].reasons.get((rule, column), {}).get(pos)
                    if message is None:
                        values = derived[k].normalised.get(column)
                        value = None if values is None else _value(values, pos)
                        message = worded.get(value)
                        if message is None:
                            message = worded[value] = self._native_reason(rule, column, value)
                    hits[k][pos].append(RuleFailure(rule, column, message))
        at = positions or [None] * len(chunks)
        return [
            self._assemble(chunk, d, h, where)
            for chunk, d, h, where in zip(chunks, derived, hits, at, strict=True)
        ]

    def _assemble(
        self,
        chunk: pd.DataFrame,
        derived: Derived,
        hits: dict[int, list[RuleFailure]],
        extract_rows: np.ndarray | None = None,
    ) -> ChunkResult:
        """One chunk's result from its failures: the rejected rows (a rule of severity REJECT
        failed) with their raw values, the valid ones normalised — those that failed only WARN
        rules with their warnings, and without the values that failed (rules.KEPT_WHEN_WARNED)."""
        n = derived.n
        rejected_at = [
            pos for pos in sorted(hits) if any(R.severity(f.rule) == R.REJECT for f in hits[pos])
        ]
        positions = np.fromiter(rejected_at, dtype=np.int64, count=len(rejected_at))
        raw = self._raw_texts(chunk, positions)
        rejected: list[Rejection] = []
        counts: collections.Counter[str] = collections.Counter()
        licence_nos = derived.normalised["licence_no"]
        raw_rows = zip(*(raw[c] for c in CANONICAL_COLUMNS), strict=True) if len(positions) else ()
        keys = (
            list(chunk[SOURCE_KEY].iloc[positions].to_numpy(dtype=object))
            if SOURCE_KEY in chunk.columns
            else None
        )
        numbers = _values(licence_nos, positions)
        for k, (pos, raw_row) in enumerate(zip(positions.tolist(), raw_rows, strict=True)):
            failures = hits[pos]
            values = dict(zip(CANONICAL_COLUMNS, raw_row, strict=True))
            if keys is not None and (key := R.as_text(keys[k])) is not None:
                values[SOURCE_KEY] = key
            rejected.append(
                Rejection(
                    row_number=(
                        int(extract_rows[pos])
                        if extract_rows is not None
                        else self._rows_seen + pos
                    )
                    + 1,
                    licence_no=numbers[k],
                    raw=values,
                    failures=failures,
                )
            )
            counts.update({f.rule for f in failures})
        keep = np.ones(n, dtype=bool)
        keep[positions] = False
        warned = {pos: hits[pos] for pos in sorted(hits) if keep[pos]}
        normalised = _without_warned_values(derived.normalised, warned)
        valid = pd.DataFrame(
            {c: _take(normalised[c], keep) for c in CANONICAL_COLUMNS},
            columns=list(CANONICAL_COLUMNS),
        )
        valid_keys = (
            chunk[SOURCE_KEY].to_numpy(dtype=object)[keep] if SOURCE_KEY in chunk.columns else None
        )
        warned_at = np.fromiter(warned, dtype=np.int64, count=len(warned))
        warned_raw = self._raw_texts(chunk, warned_at)
        warned_numbers = _values(licence_nos, warned_at)
        warnings = pd.DataFrame(
            [
                (
                    warned_numbers[k],
                    f.rule,
                    f.column,
                    f.message,
                    warned_raw[f.column][k] if f.column in warned_raw else None,
                )
                for k, failures in enumerate(warned.values())
                for f in failures
            ],
            columns=["licence_no", "rule", "column_name", "message", "value"],
            dtype=object,
        )
        for failures in warned.values():
            counts.update({f"{WARNED_PREFIX}{f.rule}" for f in failures})
        self._rows_seen += n
        self._totals.update(
            rows=n, valid=int(keep.sum()), rejected=len(rejected), warned=len(warned)
        )
        self._totals.update(counts)
        return ChunkResult(
            valid=valid,
            rejected=rejected,
            counts_by_rule=counts,
            valid_source_keys=valid_keys,
            valid_at=np.flatnonzero(keep),
            warnings=warnings,
        )

    @staticmethod
    def _raw_texts(chunk: pd.DataFrame, positions: np.ndarray) -> dict[str, list[str | None]]:
        """The rejected rows' original values as text (strings exactly as given)."""
        out: dict[str, list[str | None]] = {}
        for c in CANONICAL_COLUMNS:
            if c not in chunk.columns or not len(positions):
                out[c] = [None] * len(positions)
                continue
            picked = chunk[c].iloc[positions]
            if pd.api.types.is_datetime64_any_dtype(picked.dtype):  # no per-value Timestamp boxing
                out[c] = list(picked.astype("str").to_numpy(dtype=object, na_value=None))
                continue
            out[c] = [
                v if type(v) is str else v.isoformat() if type(v) is dt.date else R.as_text(v)
                for v in picked.to_numpy(dtype=object)
            ]
        return out

    @staticmethod
    def _native_reason(rule: str, column: str, value: object) -> str:
        if rule.startswith("required:"):
            return f"{column}: a value is required"
        if rule == R.HOLDER_TYPE_VALUE:
            return (
                f"holder_type: {R.shown_value(value)} is not a known holder type "
                "(org/单位/企业/法人/1 or person/个人/自然人/2)"
            )
        if rule == R.STATUS_VALUE:
            return (
                f"status: {R.shown_value(value)} is not a known status "
                "(有效/正常/valid, 吊销/revoked, 注销/撤销/cancelled)"
            )
        if rule == R.LICENCE_NOT_IN_CATALOGUE:
            return (
                f"licence_name: {R.shown_value(value)} is not in the department's licence catalogue"
            )
        return f"{column}: fails {rule}"
