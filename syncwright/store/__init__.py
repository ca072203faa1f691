"""syncwright's own tables (SQLAlchemy 2 Core) on SQLite (WAL) or PostgreSQL, one code path."""

from syncwright.store._database import Database, is_sqlite
from syncwright.store.tables import metadata

__all__ = ["Database", "is_sqlite", "metadata"]
