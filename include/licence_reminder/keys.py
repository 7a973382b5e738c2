"""64-bit keys of text values, computed column-wise from Arrow buffers.

A key stands for a licence number where a set of the strings would take too much memory (about
100 bytes a string in Python; 8 here). Keys can collide; every user of one confirms a match on
the strings themselves, or makes sure a collision only costs work, never a wrong answer.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np
    import pyarrow as pa

_FNV_OFFSET, _FNV_PRIME = 14695981039346656037, 1099511628211


def number_keys(text: pa.Array) -> np.ndarray:
    """A 64-bit FNV-1a hash of each value's UTF-8 bytes, computed for all values at once from the
    Arrow buffers (byte k of every value long enough, then byte k + 1: as many numpy steps as
    the longest value has bytes)."""
    import numpy as np
    import pyarrow as pa

    if isinstance(text, pa.ChunkedArray):
        text = text.combine_chunks()
    if text.type != pa.string():
        text = text.cast(pa.string())
    n = len(text)
    keys = np.full(n, _FNV_OFFSET, dtype=np.uint64)
    if not n:
        return keys
    _validity, offsets, data = text.buffers()
    bounds = np.frombuffer(offsets, dtype=np.int32)[text.offset : text.offset + n + 1].astype(
        np.int64
    )
    starts, lengths = bounds[:-1], np.diff(bounds)
    if data is None or not lengths.any():
        return keys
    body = np.frombuffer(data, dtype=np.uint8)
    order = np.argsort(
        -lengths, kind="stable"
    )  # longest first: the values still going are a prefix
    starts, lengths = starts[order], lengths[order]
    running = keys[order]
    prime = np.uint64(_FNV_PRIME)
    for k in range(int(lengths[0])):
        m = int(np.searchsorted(-lengths, -k, side="left"))  # values with more than k bytes
        running[:m] ^= body[starts[:m] + k]
        running[:m] *= prime
    keys[order] = running
    return keys
