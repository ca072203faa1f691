"""Fixtures shared by every test folder: databases (SQLite file, real PostgreSQL), the ERP."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests._postgres import PostgresServer
from tests._support import Erp, start_erp

# A skip fails the run unless it names a missing external service (tests/_skip_guard.py).
pytest_plugins = ["tests._skip_guard", "pytester"]


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    server = PostgresServer().start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'syncwright.db'}"


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The same test on both supported databases."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'syncwright.db'}"
    server: PostgresServer = request.getfixturevalue("postgres")
    return server.create_database()


@pytest.fixture
def erp() -> Iterator[Erp]:
    started = start_erp()
    try:
        yield started
    finally:
        started.server.stop()
