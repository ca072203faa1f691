"""``INSERT ... ON CONFLICT DO NOTHING`` for both dialects, so dedupe is one statement."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection


def _insert(connection: Connection, table: sa.Table) -> Any:
    dialect = connection.dialect.name
    if dialect == "sqlite":
        return sqlite.insert(table).on_conflict_do_nothing()
    if dialect == "postgresql":
        return postgresql.insert(table).on_conflict_do_nothing()
    raise NotImplementedError(f"database dialect {dialect!r} is not supported")  # pragma: no cover


def insert_many_ignore_duplicates(
    connection: Connection,
    table: sa.Table,
    rows: list[dict[str, Any]],
    *,
    key: tuple[str, ...],
    returning: sa.Column[Any],
) -> dict[tuple[Any, ...], Any]:
    """Insert ``rows`` in one statement (SQLAlchemy's insertmanyvalues); return ``returning``
    of the rows actually inserted, keyed by their ``key`` columns. Duplicates are skipped."""
    if not rows:
        return {}
    key_columns = [table.c[name] for name in key]
    statement = _insert(connection, table).returning(returning, *key_columns)
    result = connection.execute(statement, rows)
    return {tuple(row[1:]): row[0] for row in result}


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
