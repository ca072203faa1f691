"""policy: canonical state versions, what syncwright wrote (echo suppression), decisions

Revision ID: 0004_policy
Revises: 0003
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004_policy"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("sw_canonical_state") as batch:
        batch.add_column(sa.Column("versions", sa.JSON(), nullable=True))
        batch.add_column(sa.Column("applied", sa.JSON(), nullable=True))
    op.create_table(
        "sw_write_memory",
        sa.Column("connection", sa.String(length=100), nullable=False),
        sa.Column("entity_type", sa.String(length=50), nullable=False),
        sa.Column("global_id", sa.String(length=64), nullable=False),
        sa.Column("field", sa.String(length=100), nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("workflow_id", sa.String(length=200), nullable=True),
        sa.Column("written_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("connection", "entity_type", "global_id", "field"),
    )
    op.create_table(
        "sw_policy_decisions",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("connection", sa.String(length=100), nullable=False),
        sa.Column("entity_type", sa.String(length=50), nullable=False),
        sa.Column("global_id", sa.String(length=64), nullable=False),
        sa.Column("field", sa.String(length=100), nullable=True),
        sa.Column("owner", sa.String(length=200), nullable=True),
        sa.Column("event_type", sa.String(length=255), nullable=False),
        sa.Column("event_id", sa.String(length=255), nullable=False),
        sa.Column("inbox_id", sa.BigInteger(), nullable=True),
        sa.Column("correlation_id", sa.String(length=64), nullable=False),
        sa.Column("detail", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        "ix_sw_policy_decisions_kind_at", "sw_policy_decisions", ["kind", "at"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_sw_policy_decisions_kind_at", table_name="sw_policy_decisions")
    op.drop_table("sw_policy_decisions")
    op.drop_table("sw_write_memory")
    with op.batch_alter_table("sw_canonical_state") as batch:
        batch.drop_column("applied")
        batch.drop_column("versions")
