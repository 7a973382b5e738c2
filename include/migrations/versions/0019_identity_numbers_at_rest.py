"""Identity numbers at rest: the ledger keeps them masked, with a keyed digest beside them.

- ``ledger`` and ``staging_licence`` gain ``contact_id_digest`` and ``holder_code_digest``.
- Every contact ID number, and every holder code of a person (or shaped like a resident ID
  number), in the ledger is replaced by its masked form, its digest (the key ring's current key,
  protect.py) written beside it. The history's old and new values likewise; its append-only
  trigger is lifted for this conversion only, and put back.
- Quarantined rows' values (``quarantine.raw_values``) keep identity numbers masked.
- A mini-program consent tied to a person's ID number (``wechat_consent.holder_code``) keeps it
  masked, its digest in ``holder_code_digest``.

Converting rows needs the key ring (connection ``lr_pii_keys``); a ledger holding no identity
number needs none. Downgrading adds nothing back: the numbers are gone (the sources have them).

Revision ID: 0019
Revises: 0017
"""

from __future__ import annotations

import json

import sqlalchemy as sa
from alembic import op
from licence_reminder import protect
from licence_reminder.masking import mask_id
from licence_reminder.schema import append_only_triggers

revision = "0019"
down_revision = "0017"
branch_labels = None
depends_on = None

DIGESTS = ("contact_id_digest", "holder_code_digest")
_BATCH = 5_000


def _dialect() -> str:
    name = op.get_bind().dialect.name
    return "mysql" if name in {"mysql", "mariadb"} else name


class _Ring:
    """The key ring, read once, and only when a number is found."""

    def __init__(self) -> None:
        self.ring: protect.KeyRing | None = None

    def __call__(self) -> protect.KeyRing:
        if self.ring is None:
            try:
                self.ring = protect.key_ring()
            except protect.KeyRingError as exc:
                raise RuntimeError(
                    f"migration 0019 found identity numbers to protect: {exc}"
                ) from None
        return self.ring


def _protected(
    ring: _Ring, contact_id: str | None, holder_code: str | None, holder_type: str | None
) -> tuple[str | None, str | None, str | None, str | None]:
    """(contact_id_no, contact_id_digest, holder_code, holder_code_digest) as stored from now on."""
    cid = cid_digest = code_digest = None
    if contact_id:
        cid, cid_digest = mask_id(contact_id), ring().digest(str(contact_id).strip().upper())
    code = holder_code
    if holder_code and (
        holder_type == "person" or protect.ID_SHAPED.fullmatch(str(holder_code).strip().upper())
    ):
        code, code_digest = mask_id(holder_code), ring().digest(str(holder_code).strip().upper())
    return cid, cid_digest, code, code_digest


def _already(value: str | None) -> bool:
    return bool(value) and "*" in str(value)


def _convert_ledger(conn: sa.Connection, ring: _Ring) -> None:
    last = 0
    update = sa.text(
        "UPDATE ledger SET contact_id_no = :cid, contact_id_digest = :cid_digest, "
        "holder_code = :code, holder_code_digest = :code_digest WHERE id = :id"
    )
    while True:
        rows = conn.execute(
            sa.text(
                "SELECT id, contact_id_no, holder_code, holder_type FROM ledger WHERE id > :last "
                "AND (contact_id_no IS NOT NULL OR holder_code IS NOT NULL) ORDER BY id LIMIT :n"
            ),
            {"last": last, "n": _BATCH},
        ).all()
        if not rows:
            return
        changes = []
        for r in rows:
            if _already(r.contact_id_no) and _already(r.holder_code):
                continue
            cid, cid_digest, code, code_digest = _protected(
                ring,
                None if _already(r.contact_id_no) else r.contact_id_no,
                r.holder_code,
                r.holder_type,
            )
            if cid_digest or code_digest:
                changes.append(
                    {
                        "id": r.id,
                        "cid": cid if cid_digest else r.contact_id_no,
                        "cid_digest": cid_digest,
                        "code": code,
                        "code_digest": code_digest,
                    }
                )
        if changes:
            conn.execute(update, changes)
        last = rows[-1].id


def _converted_values(ring: _Ring, text: str | None) -> str | None:
    if not text:
        return text
    values = json.loads(text)
    cid, cid_digest, code, code_digest = _protected(
        ring, values.get("contact_id_no"), values.get("holder_code"), values.get("holder_type")
    )
    if not (cid_digest or code_digest):
        return text
    if cid_digest:
        values["contact_id_no"], values["contact_id_digest"] = cid, cid_digest
    if code_digest:
        values["holder_code"], values["holder_code_digest"] = code, code_digest
    return json.dumps(values, ensure_ascii=False)


def _convert_history(conn: sa.Connection, ring: _Ring) -> None:
    dialect = _dialect()
    for name, _create in append_only_triggers("ledger_history", dialect):
        if name.endswith("_no_update"):
            conn.exec_driver_sql(f"DROP TRIGGER IF EXISTS {name}")
    last = 0
    update = sa.text(
        "UPDATE ledger_history SET old_values = :old, new_values = :new WHERE id = :id"
    )
    while True:
        rows = conn.execute(
            sa.text(
                "SELECT id, old_values, new_values FROM ledger_history WHERE id > :last ORDER BY id LIMIT :n"
            ),
            {"last": last, "n": _BATCH},
        ).all()
        if not rows:
            break
        changes = []
        for r in rows:
            old, new = _converted_values(ring, r.old_values), _converted_values(ring, r.new_values)
            if (old, new) != (r.old_values, r.new_values):
                changes.append({"id": r.id, "old": old, "new": new})
        if changes:
            conn.execute(update, changes)
        last = rows[-1].id
    for name, create in append_only_triggers("ledger_history", dialect):
        if name.endswith("_no_update"):
            conn.exec_driver_sql(create)


def _convert_quarantine(conn: sa.Connection) -> None:
    update = sa.text("UPDATE quarantine SET raw_values = :raw WHERE id = :id")
    last = 0
    while True:
        rows = conn.execute(
            sa.text("SELECT id, raw_values FROM quarantine WHERE id > :last ORDER BY id LIMIT :n"),
            {"last": last, "n": _BATCH},
        ).all()
        if not rows:
            return
        changes = []
        for r in rows:
            if not r.raw_values:
                continue
            raw = json.loads(r.raw_values)
            masked = protect.masked_raw(raw)
            if masked != raw:
                changes.append(
                    {"id": r.id, "raw": json.dumps(masked, ensure_ascii=False, sort_keys=True)}
                )
        if changes:
            conn.execute(update, changes)
        last = rows[-1].id


def _convert_consents(conn: sa.Connection, ring: _Ring) -> None:
    """A mini-program consent tied to a person's ID number keeps it as the ledger does."""
    update = sa.text(
        "UPDATE wechat_consent SET holder_code = :code, holder_code_digest = :digest WHERE id = :id"
    )
    changes = []
    for r in conn.execute(
        sa.text("SELECT id, holder_code FROM wechat_consent WHERE holder_code IS NOT NULL")
    ):
        code = str(r.holder_code).strip().upper()
        if protect.ID_SHAPED.fullmatch(code):
            changes.append({"id": r.id, "code": mask_id(code), "digest": ring().digest(code)})
    if changes:
        conn.execute(update, changes)


def upgrade() -> None:
    conn = op.get_bind()
    ring = _Ring()
    # MariaDB's DDL is not transactional: without the key, fail before changing anything
    held = (
        conn.execute(
            sa.text(
                "SELECT 1 FROM ledger WHERE contact_id_no IS NOT NULL OR holder_type = 'person' "
                "LIMIT 1"
            )
        ).first()
        is not None
    )
    consents = [
        str(c).strip().upper()
        for (c,) in conn.execute(
            sa.text("SELECT holder_code FROM wechat_consent WHERE holder_code IS NOT NULL")
        )
    ]
    if held or any(protect.ID_SHAPED.fullmatch(c) for c in consents):
        ring()
    for table in ("ledger", "staging_licence"):
        for column in DIGESTS:
            op.add_column(table, sa.Column(column, sa.String(48), nullable=True))
    op.add_column("wechat_consent", sa.Column("holder_code_digest", sa.String(48), nullable=True))
    conn.execute(sa.text("DELETE FROM staging_licence"))  # a run's own, gone with its transaction
    conn.execute(sa.text("DELETE FROM staging_rejection"))
    _convert_ledger(conn, ring)
    _convert_history(conn, ring)
    _convert_quarantine(conn)
    _convert_consents(conn, ring)


def downgrade() -> None:
    # ALTER TABLE … DROP COLUMN in place (SQLite 3.35+ too): a rebuilt table would lose its
    # triggers and break the views over it
    op.execute("ALTER TABLE wechat_consent DROP COLUMN holder_code_digest")
    for table in ("staging_licence", "ledger"):
        for column in DIGESTS:
            op.execute(f"ALTER TABLE {table} DROP COLUMN {column}")
