"""``INSERT ... ON CONFLICT DO NOTHING`` for both dialects, so dedupe is one statement."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection


def insert_ignore_duplicate(
    connection: Connection, table: sa.Table, values: dict[str, Any], *, returning: sa.Column[Any]
) -> Any | None:
    """Insert ``values``; return ``returning`` of the new row, or None when it already existed."""
    dialect = connection.dialect.name
    statement: Any
    if dialect == "sqlite":
        statement = sqlite.insert(table).values(**values).on_conflict_do_nothing()
    elif dialect == "postgresql":
        statement = postgresql.insert(table).values(**values).on_conflict_do_nothing()
    else:  # pragma: no cover - we support the two dialects above only
        raise NotImplementedError(f"database dialect {dialect!r} is not supported")
    row = connection.execute(statement.returning(returning)).first()
    return None if row is None else row[0]
