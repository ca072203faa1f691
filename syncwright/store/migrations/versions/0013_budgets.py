"""per-connection budgets shared by all processes: rate window, Retry-After, concurrency leases

Revision ID: 0013_budgets
Revises: 0005_ops
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013_budgets"
down_revision: str | None = "0005_ops"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "sw_budgets",
        sa.Column("connection", sa.String(length=100), primary_key=True),
        sa.Column("window_start", sa.Float(), nullable=False, server_default="0"),
        sa.Column("used", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("blocked_until", sa.Float(), nullable=False, server_default="0"),
    )
    op.create_table(
        "sw_budget_leases",
        sa.Column("connection", sa.String(length=100), primary_key=True),
        sa.Column("slot", sa.Integer(), primary_key=True, autoincrement=False),
        sa.Column("holder", sa.String(length=100), nullable=True),
        sa.Column("expires_at", sa.Float(), nullable=False, server_default="0"),
    )


def downgrade() -> None:
    op.drop_table("sw_budget_leases")
    op.drop_table("sw_budgets")
