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
import json
import os
import re
import secrets
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from licence_reminder.errors import PermanentError
from licence_reminder.masking import mask_id

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

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
    digests beside them (:data:`PROTECTED`). ``ring`` is asked for the key ring only when there
    is a number to protect."""
    import numpy as np
    import pandas as pd

    out = frame.copy(deep=False)
    for column, digest_column in PROTECTED.items():
        if frame.empty:
            out[digest_column] = pd.Series([], dtype=object)
            continue
        values = frame[column]
        at = person_codes(frame) if column == "holder_code" else values.notna().to_numpy(dtype=bool)
        digests = np.full(len(frame), None, dtype=object)
        if at.any():
            clear = values[at].to_numpy(dtype=object, na_value=None)
            digests[at] = ring().digests(clear)
            masked = values.to_numpy(dtype=object, na_value=None)
            masked[at] = [mask_id(v) for v in clear]
            out[column] = pd.Series(
                masked,
                index=frame.index,
                dtype=values.dtype if isinstance(values.dtype, pd.StringDtype) else object,
            )
        out[digest_column] = pd.Series(digests, index=frame.index, dtype=object)
    return out


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
