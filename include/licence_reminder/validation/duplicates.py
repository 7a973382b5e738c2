"""Licence numbers a department's source holds more than once, and which of their rows is loaded.

Decided the same way in every run, full or incremental, from the whole extract: the row changed
last (``source_updated_at``) is loaded and its licence carries a ``duplicate_in_source``
warning; between rows changed at the same time, the one with the highest split column value
(the register's key, when the extract gives one); rows that nothing tells apart are all kept
out (``duplicate_licence_no``). The other rows are ``duplicate_superseded``: not loaded, kept in
quarantine with the reason.

The sync reads every row's licence number, change time and key (three columns of the whole
extract, ``sync.extract.identities``); this module decides.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

#: verdicts on one row of a duplicated number
WINS, SUPERSEDED, TIE = "wins", "superseded", "tie"


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
            return (
                f"{held}, changed at the same time (source_updated_at) and with no key to tell "
                "them apart (source.sync.split_column): none is loaded; remove the duplicates"
            )
        when = w.stamp.isoformat(sep=" ") if w.stamp else "no change time"
        why = "changed later" if w.stamp else "with a higher key"
        if verdict == SUPERSEDED:
            return (
                f"{held}; a row {why} ({when}) is the one loaded, this one is not: remove the "
                "duplicates"
            )
        return f"{held}; this one, {why} ({when}) than the others, is loaded: remove the duplicates"


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


def from_identities(numbers: Any, stamps: Any, keys: Any, tz: str) -> Duplicates:
    """The winner of each licence number the whole extract holds more than once, from every row's
    number, change time and key (Arrow arrays as read; None when the extract has no such column)."""
    import numpy as np
    import pyarrow as pa

    from licence_reminder.keys import number_keys
    from licence_reminder.validation.rules import as_text

    present = np.flatnonzero(numbers.is_valid().to_numpy(zero_copy_only=False))
    listed = numbers.take(pa.array(present))
    hashed = number_keys(listed)
    order = np.argsort(hashed, kind="stable")
    ranked = hashed[order]
    shared = np.flatnonzero(ranked[1:] == ranked[:-1])
    if not len(shared):
        return Duplicates()
    # rows sharing a key: nearly always a number held twice; decide() groups them by the number
    # itself, and a lone number that only shared a key is no duplicate there
    at = pa.array(present[np.unique(np.concatenate([order[shared], order[shared + 1]]))])
    chosen_stamps = stamps.take(at).to_pylist() if stamps is not None else [None] * len(at)
    chosen_keys = keys.take(at).to_pylist() if keys is not None else [None] * len(at)
    return decide(
        [
            (number, stamp_of(stamp, tz), as_text(key))
            for number, stamp, key in zip(
                numbers.take(at).to_pylist(), chosen_stamps, chosen_keys, strict=True
            )
        ]
    )


def stamp_of(value: Any, tz: str) -> dt.datetime | None:
    """A row's change time as the validator reads it (None when missing or unreadable)."""
    from licence_reminder.validation.rules import parse_datetime

    try:
        return parse_datetime(value, tz=tz)
    except (ValueError, TypeError):
        return None
