"""Identity numbers at rest (protect.py): masked beside a keyed digest, never kept in clear."""

from __future__ import annotations

import base64
import json

import pandas as pd
import pytest
from licence_reminder import protect

KEY = base64.b64encode(b"k" * 32).decode()
OTHER = base64.b64encode(b"o" * 32).decode()
RING = protect.KeyRing.parse({"current": "key01", "keys": {"key01": KEY}}, where="test")
ID = "41052219900101001X"


def test_a_digest_is_stable_under_its_key_and_differs_under_another() -> None:
    assert RING.digest(ID) == RING.digest(ID)
    assert RING.digest(ID).startswith("key01:") and len(RING.digest(ID)) == 6 + 32
    other = protect.KeyRing.parse(
        {"current": "key02", "keys": {"key01": KEY, "key02": OTHER}}, where="t"
    )
    assert other.digest(ID) != RING.digest(ID)
    assert RING.digest(ID) in other.candidates(ID)  # a row still under the old key is found
    assert RING.digests([ID, None]) == [RING.digest(ID), None]


@pytest.mark.parametrize(
    ("extra", "says"),
    [
        ("{not json", "extra is not JSON"),
        ({"current": "key01"}, "field 'keys' must map key ids"),
        ({"current": "key01", "keys": {"K1": KEY}}, "key id 'K1' in field 'keys' must be 5-8"),
        (
            {"current": "key01", "keys": {"key01": "not base64!"}},
            "key 'key01' in field 'keys' is not base64",
        ),
        (
            {"current": "key01", "keys": {"key01": base64.b64encode(b"short").decode()}},
            "has 5 bytes; at least 32",
        ),
        (
            {"current": "key09", "keys": {"key01": KEY}},
            "field 'current' ('key09') must name one of the keys (key01)",
        ),
    ],
)
def test_a_malformed_ring_is_named_and_never_shows_a_key(extra: object, says: str) -> None:
    with pytest.raises(protect.KeyRingError) as caught:
        protect.KeyRing.parse(extra, where="connection 'lr_pii_keys'")
    assert says in str(caught.value) and "connection 'lr_pii_keys'" in str(caught.value)
    assert KEY not in str(caught.value)


def test_rows_keep_identity_numbers_masked_with_their_digests() -> None:
    frame = pd.DataFrame(
        {
            "licence_no": ["A", "B", "C"],
            "holder_type": ["person", "org", "org"],
            "holder_code": ["110101199003077777", "91410500MA44XXXX1Q", "110101199003078888"],
            "contact_id_no": [ID, None, "410522199001010028"],
        }
    )
    asked = []

    def ring() -> protect.KeyRing:
        asked.append(1)
        return RING

    out = protect.protect(frame, ring)
    assert [v if isinstance(v, str) else None for v in out["contact_id_no"]] == [
        "410*************1X",
        None,
        "410*************28",
    ]
    assert list(out["contact_id_digest"]) == [
        RING.digest(ID),
        None,
        RING.digest("410522199001010028"),
    ]
    # a person's code, and a code shaped like a resident ID whatever the holder type; never a USCC
    assert list(out["holder_code"]) == [
        "110*************77",
        "91410500MA44XXXX1Q",
        "110*************88",
    ]
    assert out["holder_code_digest"][1] is None and out["holder_code_digest"][0] == RING.digest(
        "110101199003077777"
    )
    assert asked  # the ring is read only because there were numbers
    assert frame["contact_id_no"].iloc[0] == ID  # the caller's frame is left as it was


def test_no_number_no_key_needed() -> None:
    frame = pd.DataFrame(
        {"holder_type": ["org"], "holder_code": ["91410500MA44XXXX1Q"], "contact_id_no": [None]}
    )

    def no_ring() -> protect.KeyRing:
        raise AssertionError("the ring was read")

    out = protect.protect(frame, no_ring)
    assert out["contact_id_digest"].tolist() == [None] and out["holder_code_digest"].tolist() == [
        None
    ]
    assert protect.protect(frame.iloc[0:0], no_ring).columns[-2:].tolist() == [
        "contact_id_digest",
        "holder_code_digest",
    ]


def test_quarantine_keeps_identity_numbers_masked_wherever_they_are() -> None:
    raw = {
        "contact_id_no": "4105221990",
        "holder_code": "91410500MA44XXXX1Q",
        "licence_no": ID,
        "holder_name": "张三",
        "expiry_date": None,
    }
    shown = protect.masked_raw(raw)
    assert shown == {
        "contact_id_no": "410*****90",
        "holder_code": "914*************1Q",
        "licence_no": "410*************1X",
        "holder_name": "张三",
        "expiry_date": None,
    }
    assert ID not in json.dumps(shown)


def test_new_key_ring_is_a_valid_ring(capsys: pytest.CaptureFixture[str]) -> None:
    assert protect.main(["new-key", "key07"]) == 0
    ring = protect.KeyRing.parse(capsys.readouterr().out, where="printed")
    assert ring.current == "key07" and len(ring.keys["key07"]) == 32
    assert protect.main(["new-key", "K"]) == 2
