"""Licence numbers a department's source holds more than once, and which of their rows is loaded.

Decided the same way in every run, full or incremental, from the whole extract: the row changed
last (``source_updated_at``) is loaded and its licence carries a ``duplicate_in_source``
warning; between rows changed at the same time, the one with the highest split column value
(the register's key, when the extract gives one); rows that nothing tells apart are all kept
out (``duplicate_licence_no``). The other rows are ``duplicate_superseded``: not loaded, kept in
quarantine with the reason.

Two reads of the source: every licence number of the extract (one column; a run split over
workers has them already), then the whole rows of the few numbers held more than once.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from licence_reminder.records import SOURCE_KEY

if TYPE_CHECKING:
    import pyarrow as pa
    from sqlalchemy import Engine

    from licence_reminder.registry import Department

log = logging.getLogger(__name__)

#: verdicts on one row of a duplicated number
WINS, SUPERSEDED, TIE = "wins", "superseded", "tie"
#: numbers asked about per query (SQLite binds at most 32,766 values per statement)
_ASKED_PER_QUERY = 1_000


@dataclass(frozen=True)
class Winner:
    """The row of a duplicated number that is loaded: its stamp and key (None: not given)."""

    rows: int
    stamp: dt.datetime | None
    key: str | None
    #: nothing tells the rows apart (same stamp, no key or the same key): none is loaded
    tie: bool = False


@dataclass
class Duplicates:
    """Licence numbers (as the validator normalises them) held more than once, with their winner."""

    winners: dict[str, Winner] = field(default_factory=dict)

    def __contains__(self, number: object) -> bool:
        return number in self.winners

    def __len__(self) -> int:
        return len(self.winners)

    def verdict(self, number: str, stamp: dt.datetime | None, key: str | None) -> str:
        """WINS, SUPERSEDED or TIE for a row of a duplicated ``number`` (``stamp`` parsed as the
        validator parses it, ``key`` the split column's value as text). A row the scan did not
        see (the source changed meanwhile) is superseded: the next run decides again."""
        w = self.winners[number]
        if w.tie:
            return TIE
        return WINS if (stamp, key) == (w.stamp, w.key) else SUPERSEDED

    def reason(self, number: str, verdict: str) -> str:
        w = self.winners[number]
        held = f"licence_no: the source holds {w.rows} rows with this licence number"
        if verdict == TIE:
            return (f"{held}, changed at the same time (source_updated_at) and with no key to tell "
                    "them apart (source.sync.split_column): none is loaded; remove the duplicates")
        when = w.stamp.isoformat(sep=" ") if w.stamp else "no change time"
        why = "changed later" if w.stamp else "with a higher key"
        if verdict == SUPERSEDED:
            return (f"{held}; a row {why} ({when}) is the one loaded, this one is not: remove the "
                    "duplicates")
        return (f"{held}; this one, {why} ({when}) than the others, is loaded: remove the "
                "duplicates")


def held_twice(numbers: pa.Array) -> list[str]:
    """The numbers (normalised, nulls dropped) that occur more than once."""
    import pandas as pd
    import pyarrow as pa

    present = numbers.drop_null() if isinstance(numbers, pa.Array) else pa.array(numbers).drop_null()
    if not len(present):
        return []
    series = pd.Series(present, dtype=pd.ArrowDtype(present.type))
    return sorted(series[series.duplicated(keep=False)].unique().tolist())


def _key_order(key: str | None) -> tuple[int, int, str]:
    """Keys compare as integers where they are (the usual primary key), else as text."""
    if key is None:
        return (0, 0, "")
    digits = key.lstrip("-")
    if digits.isdigit():
        return (2, int(key), "")
    return (1, 0, key)


def decide(rows: list[tuple[str, dt.datetime | None, str | None]]) -> Duplicates:
    """The winner of each number among ``rows`` (number, stamp, key), the rows of numbers held
    more than once."""
    by_number: dict[str, list[tuple[dt.datetime | None, str | None]]] = {}
    for number, stamp, key in rows:
        by_number.setdefault(number, []).append((stamp, key))
    out = Duplicates()
    least = dt.datetime.min
    for number, held in by_number.items():
        if len(held) < 2:  # the other row changed its number meanwhile
            continue
        ranked = sorted(held, key=lambda r: (r[0] or least, _key_order(r[1])), reverse=True)
        (stamp, key), runner_up = ranked[0], ranked[1]
        tie = (stamp, _key_order(key)) == (runner_up[0], _key_order(runner_up[1]))
        out.winners[number] = Winner(rows=len(held), stamp=stamp, key=key, tie=tie)
    return out


def scan(source: Engine, dept: Department, numbers: pa.Array | None = None, *,
         tz: str | None = None) -> Duplicates:
    """The duplicated licence numbers of the department's whole extract and their winners.

    ``numbers``: every licence number of the whole extract, normalised, when the caller has read
    them already; otherwise they are read here (one column of the extract).
    """
    import pyarrow as pa

    from licence_reminder.extract import licence_numbers, rows_for_numbers
    from licence_reminder.validation.rules import DEFAULT_TZ
    from licence_reminder.validation.suite import normalised_text

    if numbers is None:
        import pandas as pd

        parts = [pa.array(normalised_text(pd.Series(batch, dtype=object)), type=pa.string())
                 for batch in licence_numbers(source, dept)]
        numbers = pa.concat_arrays(parts) if parts else pa.array([], type=pa.string())
    twice = held_twice(numbers)
    if not twice:
        return Duplicates()
    rows: list[tuple[str, dt.datetime | None, str | None]] = []
    wanted = set(twice)
    for k in range(0, len(twice), _ASKED_PER_QUERY):
        for frame in rows_for_numbers(source, dept, twice[k:k + _ASKED_PER_QUERY]):
            rows.extend(_identities(frame, wanted, tz or DEFAULT_TZ))
    found = decide(rows)
    for number in wanted - set(found.winners):  # not found by the source's comparison: keep out
        found.winners[number] = Winner(rows=2, stamp=None, key=None, tie=True)
    log.info("department %s: %d licence number(s) held more than once in the source", dept.code,
             len(found))
    return found


def _identities(frame: Any, wanted: set[str], tz: str) -> list[tuple[str, dt.datetime | None, str | None]]:
    """(number, stamp, key) of a canonical frame's rows whose normalised number is ``wanted``."""
    from licence_reminder.validation.rules import as_text
    from licence_reminder.validation.suite import normalised_text

    out = []
    numbers = normalised_text(frame["licence_no"])
    stamps = frame["source_updated_at"].to_numpy(dtype=object)
    keys = frame[SOURCE_KEY].to_numpy(dtype=object) if SOURCE_KEY in frame.columns else None
    for i, number in enumerate(numbers):
        if number not in wanted:  # the source's collation found more (case, trailing spaces)
            continue
        out.append((number, stamp_of(stamps[i], tz),
                    None if keys is None else as_text(keys[i])))
    return out


def stamp_of(value: Any, tz: str) -> dt.datetime | None:
    """A row's change time as the validator reads it (None when missing or unreadable)."""
    from licence_reminder.validation.rules import parse_datetime

    try:
        return parse_datetime(value, tz=tz)
    except (ValueError, TypeError):
        return None
