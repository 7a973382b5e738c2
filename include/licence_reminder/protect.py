"""Identity numbers at rest: the ledger keeps none in clear (docs/adr/0008-identity-numbers-at-rest.md).

Nothing the product sends needs a contact's resident ID number (身份证号), nor a person holder's
(the holder code of a 个人). A sync validates them in clear, then the ledger, its history, its
staging tables and the load files keep two things instead of each one:

- the **masked** form (``410***********12``), what people are shown, in the same column;
- a **keyed digest** (``key01:`` + 32 hex digits, BLAKE2b keyed with a secret of the key ring), in
  ``contact_id_digest`` / ``holder_code_digest``: the same number always gives the same digest
  under one key, so a number someone reads out can be found (``licence-reminder pii find``), and
  nobody holding a dump without the key can turn a digest back into a number (the 10^10 or so
  valid ID numbers could be tried one by one against an unkeyed hash; not against a keyed one).

The key ring is an Airflow connection (``lr_pii_keys``, or ``LR_PII_KEYS_CONN_ID``) whose extra
holds ``{"current": "key02", "keys": {"key01": "<base64>", "key02": "<base64>"}}`` (ids of 5 to 8
letters or digits: Airflow's log masking skips shorter values); new digests use
``current``. Rotating: add a key and make it current; each department's next full reconciliation
writes its rows' digests with it (``pii status`` counts the rows still under each key); once none
are left under the old key, remove it.
"""

from __future__ import annotations

import base64
import hashlib
import itertools
import json
import os
import re
import secrets
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from licence_reminder.arrow_text import string_array
from licence_reminder.errors import PermanentError
from licence_reminder.masking import mask_id, mask_ids

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd
    import pyarrow as pa

DEFAULT_CONN_ID = "lr_pii_keys"
#: a digest as stored: key id, colon, 32 hex digits
DIGEST_LENGTH = 16
_KEY_ID = re.compile(r"[a-z0-9]{5,8}")
_MIN_KEY_BYTES = 32
#: a resident ID number as the validator leaves it (18 characters, or a 15-digit old one)
ID_SHAPED = re.compile(r"[0-9]{17}[0-9X]|[0-9]{15}")
#: the columns of a licence row that hold identity numbers, and where each one's digest goes
PROTECTED = {"contact_id_no": "contact_id_digest", "holder_code": "holder_code_digest"}


class KeyRingError(PermanentError):
    """The key ring is missing or malformed; the message names the connection and the field."""


@dataclass(frozen=True)
class KeyRing:
    current: str
    keys: Mapping[str, bytes]

    @classmethod
    def parse(cls, extra: Any, *, where: str) -> KeyRing:
        """From the connection's extra (a dict or its JSON text); ``where`` names it in errors."""
        if isinstance(extra, str):
            try:
                extra = json.loads(extra or "{}")
            except ValueError as exc:
                raise KeyRingError(f"{where}: extra is not JSON ({exc.msg})") from None
        if not isinstance(extra, dict):
            raise KeyRingError(f"{where}: extra must be an object with 'current' and 'keys'")
        current, keys = extra.get("current"), extra.get("keys")
        if not isinstance(keys, dict) or not keys:
            raise KeyRingError(
                f"{where}: field 'keys' must map key ids to base64 keys "
                "(`python -m licence_reminder.protect new-key` makes one)"
            )
        decoded: dict[str, bytes] = {}
        for key_id, text in keys.items():
            if not _KEY_ID.fullmatch(str(key_id)):
                raise KeyRingError(
                    f"{where}: key id {key_id!r} in field 'keys' must be 5-8 lower-case "
                    "letters or digits"
                )
            try:
                raw = base64.b64decode(str(text), validate=True)
            except ValueError:
                raise KeyRingError(
                    f"{where}: key {key_id!r} in field 'keys' is not base64"
                ) from None
            if len(raw) < _MIN_KEY_BYTES:
                raise KeyRingError(
                    f"{where}: key {key_id!r} in field 'keys' has {len(raw)} bytes; "
                    f"at least {_MIN_KEY_BYTES} are needed"
                )
            decoded[str(key_id)] = raw
        if current not in decoded:
            raise KeyRingError(
                f"{where}: field 'current' ({current!r}) must name one of the keys "
                f"({', '.join(sorted(decoded))})"
            )
        return cls(str(current), decoded)

    def digest(self, value: str, key_id: str | None = None) -> str:
        key_id = key_id or self.current
        mac = hashlib.blake2b(value.encode(), key=self.keys[key_id][:64], digest_size=DIGEST_LENGTH)
        return f"{key_id}:{mac.hexdigest()}"

    def digests(self, values: Iterable[str | None]) -> list[str | None]:
        key = self.keys[self.current][:64]
        prefix = f"{self.current}:"
        blake = hashlib.blake2b
        return [
            None
            if v is None
            else prefix + blake(v.encode(), key=key, digest_size=DIGEST_LENGTH).hexdigest()
            for v in values
        ]

    def digest_array(self, values: pa.Array) -> pa.Array:
        """:meth:`digests` of a string array, as a string array (null where ``values`` is):
        each value hashed straight from Arrow's buffer, and the hex text and key id put
        together with numpy, not a Python string per value."""
        import numpy as np
        import pyarrow as pa
        import pyarrow.compute as pc

        if isinstance(values, pa.ChunkedArray):
            values = values.combine_chunks()
        if values.type != pa.string():
            values = values.cast(pa.string())
        n = len(values)
        if not n:
            return pa.array([], type=pa.string())
        key = self.keys[self.current][:64]
        prefix = f"{self.current}:".encode()
        width = len(prefix) + 2 * DIGEST_LENGTH
        offsets = np.frombuffer(values.buffers()[1], dtype=np.int32)[
            values.offset : values.offset + n + 1
        ].tolist()
        data = values.buffers()[2]
        text = data.to_pybytes() if data is not None else b""  # slices of bytes cost least
        # a copy of the keyed state skips preparing the key's block again for every value:
        # 0.59 s instead of 0.79 s per 1,000,000 values
        keyed = hashlib.blake2b(key=key, digest_size=DIGEST_LENGTH).copy

        def mac(value: bytes) -> bytes:
            h = keyed()
            h.update(value)
            return h.digest()

        raw = b"".join([mac(text[a:b]) for a, b in itertools.pairwise(offsets)])
        out = np.empty((n, width), dtype=np.uint8)
        out[:, : len(prefix)] = np.frombuffer(prefix, dtype=np.uint8)
        out[:, len(prefix) :] = np.frombuffer(raw.hex().encode(), dtype=np.uint8).reshape(n, -1)
        # at most 41 bytes a value: int32 offsets hold 50 million values, far beyond a chunk
        digests = pa.StringArray.from_buffers(
            n,
            pa.py_buffer(np.arange(0, (n + 1) * width, width, dtype=np.int32)),
            pa.py_buffer(out),
        )
        if values.null_count:
            digests = pc.if_else(values.is_valid(), digests, pa.scalar(None, pa.string()))
        return digests

    def candidates(self, value: str) -> list[str]:
        """The digests ``value`` has under every key of the ring (to find rows of any key)."""
        return [self.digest(value, k) for k in sorted(self.keys)]


def key_ring(conn_id: str | None = None) -> KeyRing:
    """The key ring from its Airflow connection (the secrets backend, or ``AIRFLOW_CONN_*``)."""
    from airflow.sdk.exceptions import AirflowNotFoundException

    from licence_reminder.db import get_airflow_connection

    conn_id = conn_id or os.environ.get("LR_PII_KEYS_CONN_ID", DEFAULT_CONN_ID)
    try:
        conn = get_airflow_connection(conn_id)
    except AirflowNotFoundException:
        raise KeyRingError(
            f"connection {conn_id!r} (the key of identity-number digests) is not defined: "
            "create it as docs/security.md says"
        ) from None
    return KeyRing.parse(conn.extra_dejson or conn.extra, where=f"connection {conn_id!r}")


def current_key_id(conn_id: str | None = None) -> str | None:
    """The ring's current key id, or None when no key ring is defined (a register without
    identity numbers needs none); a malformed ring is an error all the same."""
    try:
        return key_ring(conn_id).current
    except KeyRingError as exc:
        if "is not defined" in str(exc):
            return None
        raise


def new_key_ring(key_id: str = "key01") -> dict[str, Any]:
    """A fresh key ring as a connection's extra."""
    return {
        "current": key_id,
        "keys": {key_id: base64.b64encode(secrets.token_bytes(_MIN_KEY_BYTES)).decode()},
    }


# --- rows -----------------------------------------------------------------------------------------


def person_codes(frame: pd.DataFrame) -> np.ndarray:
    """Rows whose holder code is a person's identity number (a 个人 holder, or a code shaped like
    one whatever the holder type: a register that files people as organisations)."""
    import numpy as np

    codes = frame["holder_code"]
    shaped = codes.str.fullmatch(ID_SHAPED.pattern).fillna(False).to_numpy(dtype=bool)
    person = (frame["holder_type"] == "person").to_numpy(dtype=bool) & codes.notna().to_numpy()
    return np.asarray(shaped | person, dtype=bool)


def protect(frame: pd.DataFrame, ring: Callable[[], KeyRing] = key_ring) -> pd.DataFrame:
    """``frame`` (licence rows, identity numbers in clear) with those numbers masked and their
    digests beside them (:data:`PROTECTED`), as Python strings (None where there is none).
    ``ring`` is asked for the key ring only when there is a number to protect."""
    import numpy as np
    import pandas as pd

    out = frame.copy(deep=False)
    for column, (masked, digests) in _protected(frame, ring).items():
        values = frame[column]
        if isinstance(masked, np.ndarray):
            out[column] = pd.Series(masked, index=frame.index, dtype=object)
        elif masked is not None:
            out[column] = pd.Series(
                pd.array(masked, dtype=values.dtype)
                if isinstance(values.dtype, pd.StringDtype)
                else masked.to_numpy(zero_copy_only=False),
                index=frame.index,
                dtype=values.dtype if isinstance(values.dtype, pd.StringDtype) else object,
            )
        out[PROTECTED[column]] = pd.Series(
            digests.to_numpy(zero_copy_only=False), index=frame.index, dtype=object
        )
    return out


def protect_texts(
    frame: pd.DataFrame, ring: Callable[[], KeyRing] = key_ring
) -> tuple[pd.DataFrame, dict[str, tuple[pa.Array, np.ndarray]]]:
    """:func:`protect` for the load files: the same values, the digests in text columns, and
    beside the frame the (text, null mask) of the four columns as ``rows.column_text`` makes
    them, so that nothing is turned into Python strings and back."""
    import numpy as np
    import pandas as pd
    import pyarrow.compute as pc

    out = frame.copy(deep=False)
    texts = {}
    text_dtype = pd.StringDtype(storage="pyarrow", na_value=np.nan)
    for column, (masked, digests) in _protected(frame, ring).items():
        arrays = {PROTECTED[column]: digests}
        if isinstance(masked, np.ndarray):  # not text: rows.column_text words it
            out[column] = pd.Series(masked, index=frame.index, dtype=object)
        elif masked is not None:
            arrays[column] = masked
            out[column] = pd.Series(
                pd.array(masked, dtype=frame[column].dtype)
                if isinstance(frame[column].dtype, pd.StringDtype)
                else masked.to_numpy(zero_copy_only=False),
                index=frame.index,
                dtype=frame[column].dtype
                if isinstance(frame[column].dtype, pd.StringDtype)
                else object,
            )
        out[PROTECTED[column]] = pd.Series(pd.array(digests, dtype=text_dtype), index=frame.index)
        for name, array in arrays.items():
            null = np.asarray(array.is_null().to_numpy(zero_copy_only=False), dtype=bool)
            texts[name] = (pc.fill_null(array, "") if array.null_count else array), null
    return out, texts


def _protected(
    frame: pd.DataFrame, ring: Callable[[], KeyRing]
) -> dict[str, tuple[pa.Array | np.ndarray | None, pa.Array]]:
    """Per :data:`PROTECTED` column: (its values with the identity numbers masked — None when
    there are none to mask, Python objects when the column is not all text —, their digests,
    null elsewhere), as Arrow string arrays."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    found: dict[str, tuple[pa.Array | np.ndarray | None, pa.Array]] = {}
    for column in PROTECTED:
        if frame.empty:
            found[column] = None, pa.array([], type=pa.string())
            continue
        values = frame[column]
        at = person_codes(frame) if column == "holder_code" else values.notna().to_numpy(dtype=bool)
        if not at.any():
            found[column] = None, pa.nulls(len(frame), type=pa.string())
            continue
        # each protected row's position among them; null for the others (take() gives null)
        spread = pa.array(np.cumsum(at) - 1, mask=~at)
        text = string_array(values)
        if text is None:  # not only text: value by value, as it always was
            clear = values[at].to_numpy(dtype=object, na_value=None)
            masked = values.to_numpy(dtype=object, na_value=None, copy=True)
            masked[at] = [mask_id(v) for v in clear]
            digests = pa.array(ring().digests(clear), type=pa.string())
        else:
            clear = text.filter(pa.array(at))
            masked = pc.if_else(pa.array(at), mask_ids(clear).take(spread), text)
            digests = ring().digest_array(clear)
        found[column] = masked, digests.take(spread)
    return found


def masked_raw(raw: Mapping[str, Any]) -> dict[str, Any]:
    """A rejected row's values as quarantine keeps them: the identity-number columns masked, and
    any other value shaped like one too (a register that keys its rows by the holder's number)."""
    out = {}
    for column, value in raw.items():
        if value is None:
            out[column] = None
        elif (
            column in PROTECTED
            or isinstance(value, str)
            and ID_SHAPED.fullmatch(value.strip().upper())
        ):
            out[column] = mask_id(value)
        else:
            out[column] = value
    return out


def main(argv: list[str] | None = None) -> int:
    """``python -m licence_reminder.protect new-key [KEY_ID]``: a key ring (the connection's extra)."""
    import sys

    args = sys.argv[1:] if argv is None else argv
    if not args or args[0] != "new-key":
        print("usage: python -m licence_reminder.protect new-key [KEY_ID]", file=sys.stderr)
        return 2
    key_id = args[1] if len(args) > 1 else "key01"
    if not _KEY_ID.fullmatch(key_id):
        print(f"key id {key_id!r}: 5-8 lower-case letters or digits", file=sys.stderr)
        return 2
    print(json.dumps(new_key_ring(key_id)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
