"""ledger rows carry the entity key, so a customer's whole story can be traced

Revision ID: 0002
Revises: 0001
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("sw_ledger") as batch:
        batch.add_column(sa.Column("entity_key", sa.String(length=120), nullable=True))
    op.create_index("ix_sw_ledger_entity", "sw_ledger", ["entity_key", "id"])


def downgrade() -> None:
    op.drop_index("ix_sw_ledger_entity", table_name="sw_ledger")
    with op.batch_alter_table("sw_ledger") as batch:
        batch.drop_column("entity_key")
