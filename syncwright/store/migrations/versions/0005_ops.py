"""audit chain with sequence, head row and keyed hashes; exception classes, owners, tags, history

Entries written before this revision are re-chained in the new form (unkeyed, in id order):
their old hashes covered fewer fields, so they could not be verified by the new rules.

Revision ID: 0005_ops
Revises: 0007_auth
"""

from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

from syncwright.ledger._chain import GENESIS, entry_hash

revision: str = "0005_ops"
down_revision: str | None = "0007_auth"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("sw_audit") as batch:
        batch.add_column(sa.Column("seq", sa.BigInteger(), nullable=True))
        batch.add_column(
            sa.Column("kind", sa.String(length=20), nullable=False, server_default="write")
        )
        batch.add_column(sa.Column("actor", sa.String(length=200), nullable=True))
        batch.add_column(sa.Column("step", sa.String(length=100), nullable=True))
        batch.add_column(sa.Column("detail", sa.JSON(), nullable=True))
        batch.add_column(
            sa.Column("keyed", sa.Boolean(), nullable=False, server_default=sa.false())
        )
    op.create_table(
        "sw_audit_head",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=True),
    )
    head_seq, head_hash, head_at = _rechain()
    op.execute(
        sa.table(
            "sw_audit_head",
            sa.column("id", sa.Integer()),
            sa.column("seq", sa.BigInteger()),
            sa.column("hash", sa.String()),
            sa.column("at", sa.DateTime(timezone=True)),
        )
        .insert()
        .values(id=1, seq=head_seq, hash=head_hash, at=head_at)
    )
    op.create_index("uq_sw_audit_seq", "sw_audit", ["seq"], unique=True)
    op.create_index("ix_sw_audit_workflow", "sw_audit", ["workflow_id", "action"])

    with op.batch_alter_table("sw_exceptions") as batch:
        batch.add_column(sa.Column("error_class", sa.String(length=30), nullable=True))
        batch.add_column(sa.Column("record", sa.String(length=200), nullable=True))
        batch.add_column(sa.Column("assignee", sa.String(length=200), nullable=True))
        batch.add_column(sa.Column("tags", sa.JSON(), nullable=True))
        batch.add_column(sa.Column("waiting_on", sa.JSON(), nullable=True))
        batch.add_column(sa.Column("next_check_at", sa.DateTime(timezone=True), nullable=True))
    op.create_index("ix_sw_exceptions_record", "sw_exceptions", ["record"])
    op.create_table(
        "sw_exception_events",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            primary_key=True,
            autoincrement=True,
        ),
        sa.Column("exception_id", sa.String(length=40), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column("action", sa.String(length=30), nullable=False),
        sa.Column("detail", sa.JSON(), nullable=True),
    )
    op.create_index(
        "ix_sw_exception_events_exception", "sw_exception_events", ["exception_id", "id"]
    )


def _rechain() -> tuple[int, str, datetime | None]:
    """Number the existing entries in id order and hash them in the new form."""
    bind = op.get_bind()
    audit = sa.Table("sw_audit", sa.MetaData(), autoload_with=bind)
    prev, seq, at = GENESIS, 0, None
    for row in bind.execute(sa.select(audit).order_by(audit.c.id)).mappings().all():
        seq += 1
        values = {**dict(row), "seq": seq, "kind": "write", "keyed": False, "prev_hash": prev}
        at = row["at"] if row["at"].tzinfo else row["at"].replace(tzinfo=UTC)
        digest = entry_hash(values, None)
        bind.execute(
            sa.update(audit)
            .where(audit.c.id == row["id"])
            .values(seq=seq, prev_hash=prev, hash=digest)
        )
        prev = digest
    return seq, prev, at


def downgrade() -> None:
    op.drop_index("ix_sw_exception_events_exception", table_name="sw_exception_events")
    op.drop_table("sw_exception_events")
    op.drop_index("ix_sw_exceptions_record", table_name="sw_exceptions")
    with op.batch_alter_table("sw_exceptions") as batch:
        for column in ("next_check_at", "waiting_on", "tags", "assignee", "record", "error_class"):
            batch.drop_column(column)
    op.drop_index("ix_sw_audit_workflow", table_name="sw_audit")
    op.drop_index("uq_sw_audit_seq", table_name="sw_audit")
    op.drop_table("sw_audit_head")
    with op.batch_alter_table("sw_audit") as batch:
        for column in ("keyed", "detail", "step", "actor", "kind", "seq"):
            batch.drop_column(column)
