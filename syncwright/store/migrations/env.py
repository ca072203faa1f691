"""Alembic environment: run against the connection handed over by ``Database.upgrade``."""

from __future__ import annotations

from alembic import context

from syncwright.store.tables import metadata

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run migrations through `syncwright db upgrade` (Database.upgrade)")

context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
