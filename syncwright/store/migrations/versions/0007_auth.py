"""security events are counted per source and time window, so a forged-signature flood adds a
bounded number of rows; ledger rows name the actor of an operator action

Revision ID: 0007_auth
Revises: 0003
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007_auth"
down_revision: str | None = "0004_policy"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("sw_security_events") as batch:
        batch.add_column(sa.Column("window_start", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("last_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("count", sa.Integer(), nullable=False, server_default="1"))
    # Rows written before this revision are one event each: a window of their own.
    op.execute("UPDATE sw_security_events SET window_start = at, last_at = at")
    with op.batch_alter_table("sw_ledger") as batch:
        batch.add_column(sa.Column("actor", sa.String(length=150), nullable=True))
    op.create_index(
        "ix_sw_security_events_window",
        "sw_security_events",
        ["connection", "window_start", "kind", "code", "remote_addr"],
    )


def downgrade() -> None:
    with op.batch_alter_table("sw_ledger") as batch:
        batch.drop_column("actor")
    op.drop_index("ix_sw_security_events_window", table_name="sw_security_events")
    with op.batch_alter_table("sw_security_events") as batch:
        batch.drop_column("count")
        batch.drop_column("last_at")
        batch.drop_column("window_start")
