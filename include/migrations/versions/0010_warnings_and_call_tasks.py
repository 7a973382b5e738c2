"""Licences load with warnings; what SMS cannot reach becomes a call task for a person.

- A licence whose record fails only rules of severity WARN (a check character, a mobile, a name
  that looks wrong) is loaded, so ``ledger.contact_mobile``, ``holder_name`` and ``holder_type``
  may be NULL; its warnings are kept per licence in ``licence_warning`` (which rules, since when,
  resolved when the source is fixed), staged per run in ``staging_warning``. Licences quarantined
  before are evaluated again at the department's next full run.
- ``quarantine`` keeps the rejected row's expiry date and licence name as far as they could be read,
  for the lapsed report; ``sync_run.rows_warned`` counts the rows loaded with warnings.
- ``call_task``: one per reminder SMS could not deliver (no usable mobile, a refusal, a carrier's
  report, a message in doubt), for the licence's department to phone; ``call_outcome`` is every
  outcome a person recorded, append-only like the delivery audit; ``personal_data_access`` records
  each time a full mobile was shown or exported.
- ``staging_renewal``: the renewal applications a department's side table lists, per run.
- Views: ``v_expired_without_delivery`` counts a holder reached by phone as warned and lists
  quarantined licences that expired; ``v_assessment_yearly`` counts reached-by-phone;
  ``v_call_log`` (new) is the phone calls' audit, readable by auditors.

Revision ID: 0010
Revises: 0009
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from licence_reminder.schema import append_only_triggers, ledger_insertion_trigger, view_sql

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

_MYSQL = {"mysql_engine": "InnoDB", "mysql_charset": "utf8mb4", "mysql_collate": "utf8mb4_bin"}
#: loaded with warnings, a licence may lack them
NULLABLE = (
    ("contact_mobile", sa.String(20)),
    ("holder_name", sa.String(200)),
    ("holder_type", sa.String(8)),
)
APPEND_ONLY = ("call_outcome", "personal_data_access")
#: views over the tables this revision changes: (name, revision whose definition they had before)
REPLACED_VIEWS = (("v_expired_without_delivery", "0002"), ("v_assessment_yearly", "0004"))
AUDITOR_VIEWS = ("v_expired_without_delivery", "v_assessment_yearly", "v_call_log")
#: the expiry date a renewal replaced, kept in ledger_history.old_values (JSON), as 0004 reads it
OLD_EXPIRY = {
    "mysql": "CAST(JSON_VALUE(h.old_values, '$.expiry_date') AS DATE)",
    "sqlite": "json_extract(h.old_values, '$.expiry_date')",
}


def _ts(name: str, nullable: bool = True) -> sa.Column:
    return sa.Column(name, sa.DateTime(), nullable=nullable)


def _id() -> sa.Column:
    return sa.Column(
        "id",
        sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
        primary_key=True,
        autoincrement=True,
    )


def _dialect() -> str:
    name = op.get_bind().dialect.name
    return "mysql" if name in {"mysql", "mariadb"} else name


def _create_view(view: str, revision_of: str | None = None) -> None:
    text = view_sql(view, revision_of) if revision_of else view_sql(view, revision)
    op.execute(text.replace("{old_expiry}", OLD_EXPIRY[_dialect()]))


def _grant(views: tuple[str, ...], verb: str = "GRANT") -> None:
    if _dialect() != "mysql":
        return
    database = op.get_bind().exec_driver_sql("SELECT DATABASE()").scalar()
    for view in views:
        preposition = "TO" if verb == "GRANT" else "FROM"
        op.execute(f"{verb} SELECT ON `{database}`.`{view}` {preposition} licence_auditor")


def _nullability(nullable: bool) -> None:
    """The ledger's and staging's columns a warned licence may lack. SQLite rebuilds the table,
    which drops its triggers and breaks the views over it: they are made again around it."""
    for table in ("ledger", "staging_licence"):
        with op.batch_alter_table(table) as batch:
            for column, kind in NULLABLE:
                batch.alter_column(column, existing_type=kind, nullable=nullable)
    if _dialect() == "sqlite":
        op.execute("DROP TRIGGER IF EXISTS ledger_insertion_fixed")
        op.execute(ledger_insertion_trigger("sqlite"))


def upgrade() -> None:
    for view, _ in REPLACED_VIEWS:
        op.execute(f"DROP VIEW IF EXISTS {view}")
    _nullability(True)

    op.create_table(
        "licence_warning",
        _id(),
        sa.Column("dept_code", sa.String(32), nullable=False),
        sa.Column("licence_no", sa.String(64), nullable=False),
        sa.Column("rule", sa.String(64), nullable=False),
        sa.Column("column_name", sa.String(32), nullable=False),
        sa.Column("message", sa.String(1000), nullable=False),
        sa.Column("first_run_id", sa.String(250), nullable=False),
        _ts("first_seen_at", False),
        sa.Column("last_run_id", sa.String(250), nullable=False),
        _ts("last_seen_at", False),
        _ts("resolved_at"),
        sa.Column("resolved_run_id", sa.String(250)),
        sa.Column("open_key", sa.String(200)),
        sa.UniqueConstraint("open_key", name="uq_licence_warning_open"),
        **_MYSQL,
    )
    op.create_index(
        "ix_licence_warning_dept", "licence_warning", ["dept_code", "resolved_at", "rule"]
    )
    op.create_index("ix_licence_warning_licence", "licence_warning", ["dept_code", "licence_no"])
    op.create_table(
        "staging_warning",
        sa.Column("run_id", sa.String(250), nullable=False),
        sa.Column("dept_code", sa.String(32), nullable=False),
        sa.Column("licence_no", sa.String(64), nullable=False),
        sa.Column("rule", sa.String(64), nullable=False),
        sa.Column("column_name", sa.String(32), nullable=False),
        sa.Column("message", sa.String(1000), nullable=False),
        **_MYSQL,
    )
    op.create_index(
        "ix_staging_warning_run", "staging_warning", ["run_id", "dept_code", "licence_no"]
    )
    op.create_table(
        "staging_renewal",
        sa.Column("run_id", sa.String(250), nullable=False),
        sa.Column("dept_code", sa.String(32), nullable=False),
        sa.Column("licence_no", sa.String(64), nullable=False),
        sa.Column("applied_on", sa.Date()),  # NULL: applied, the date not given
        **_MYSQL,
    )
    op.create_index(
        "ix_staging_renewal_run", "staging_renewal", ["run_id", "dept_code", "licence_no"]
    )
    for table in ("quarantine", "staging_rejection"):
        op.add_column(table, sa.Column("expiry_date", sa.Date(), nullable=True))
        op.add_column(table, sa.Column("licence_name", sa.String(128), nullable=True))
    op.create_index("ix_quarantine_expiry", "quarantine", ["expiry_date"])
    op.add_column(
        "sync_run", sa.Column("rows_warned", sa.Integer(), nullable=False, server_default="0")
    )

    op.create_table(
        "call_task",
        _id(),
        sa.Column("dept_code", sa.String(32), nullable=False),
        sa.Column("ledger_id", sa.BigInteger(), nullable=False),
        sa.Column("licence_no", sa.String(64), nullable=False),
        sa.Column("expiry_date", sa.Date(), nullable=False),
        sa.Column("stage", sa.Integer(), nullable=False),
        sa.Column("reminder_id", sa.BigInteger(), nullable=False),
        sa.Column("message_id", sa.String(32)),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("reason_code", sa.String(32), nullable=False),
        sa.Column("reason", sa.String(500)),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("next_try_on", sa.Date()),
        sa.Column("outcome", sa.String(32)),
        sa.Column("outcomes", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("closed_reason", sa.String(200)),
        sa.Column("created_run", sa.String(250), nullable=False),
        _ts("created_at", False),
        _ts("updated_at", False),
        _ts("closed_at"),
        sa.UniqueConstraint("reminder_id", name="uq_call_task_reminder"),
        **_MYSQL,
    )
    op.create_index("ix_call_task_work", "call_task", ["dept_code", "status", "expiry_date"])
    op.create_index("ix_call_task_cycle", "call_task", ["ledger_id", "expiry_date"])
    op.create_table(
        "call_outcome",
        _id(),
        sa.Column("call_task_id", sa.BigInteger(), nullable=False),
        sa.Column("dept_code", sa.String(32), nullable=False),
        sa.Column("outcome", sa.String(32), nullable=False),
        sa.Column("note", sa.String(500)),
        sa.Column("retry_on", sa.Date()),
        sa.Column("recorded_by", sa.String(250), nullable=False),
        _ts("recorded_at", False),
        **_MYSQL,
    )
    op.create_index("ix_call_outcome_task", "call_outcome", ["call_task_id"])
    op.create_index("ix_call_outcome_day", "call_outcome", ["dept_code", "recorded_at"])
    op.create_table(
        "personal_data_access",
        _id(),
        _ts("accessed_at", False),
        sa.Column("accessed_by", sa.String(250), nullable=False),
        sa.Column("via", sa.String(64), nullable=False),
        sa.Column("dept_code", sa.String(32)),
        sa.Column("subject", sa.String(100), nullable=False),
        sa.Column("fields", sa.String(200), nullable=False),
        sa.Column("row_count", sa.Integer(), nullable=False, server_default="1"),
        **_MYSQL,
    )
    op.create_index("ix_personal_data_access_at", "personal_data_access", ["accessed_at"])
    for table in APPEND_ONLY:
        for _name, ddl in append_only_triggers(table, _dialect()):
            op.execute(ddl)

    for view in AUDITOR_VIEWS:
        _create_view(view)
    _grant(AUDITOR_VIEWS)


def downgrade() -> None:
    _grant(AUDITOR_VIEWS, "REVOKE")
    for view in AUDITOR_VIEWS:
        op.execute(f"DROP VIEW IF EXISTS {view}")
    for table in APPEND_ONLY:
        for name, _ddl in append_only_triggers(table, "sqlite"):
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
    for table in (
        "personal_data_access",
        "call_outcome",
        "call_task",
        "staging_renewal",
        "staging_warning",
        "licence_warning",
    ):
        op.drop_table(table)
    op.drop_index("ix_quarantine_expiry", table_name="quarantine")
    for table in ("quarantine", "staging_rejection"):
        with op.batch_alter_table(table) as batch:
            batch.drop_column("licence_name")
            batch.drop_column("expiry_date")
    with op.batch_alter_table("sync_run") as batch:
        batch.drop_column("rows_warned")
    # the older schema has no room for a licence without them: what the product then wrote
    op.execute("UPDATE ledger SET contact_mobile = '' WHERE contact_mobile IS NULL")
    op.execute("UPDATE ledger SET holder_name = '' WHERE holder_name IS NULL")
    op.execute("UPDATE ledger SET holder_type = '' WHERE holder_type IS NULL")
    op.execute("DELETE FROM staging_licence")
    _nullability(False)
    for view, revision_of in REPLACED_VIEWS:
        _create_view(view, revision_of)
    _grant(tuple(view for view, _ in REPLACED_VIEWS))
