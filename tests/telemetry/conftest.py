"""An in-process stack (runtime, engine, dispatcher, API) on the example ERP emulator, over
SQLite and over PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests._support import Erp, Stack, start_stack, write_config


@pytest.fixture
def stack(tmp_path: Path, db_url: str, erp: Erp) -> Iterator[Stack]:
    started = start_stack(write_config(tmp_path, db_url=db_url, erp_url=erp.url))
    try:
        yield started
    finally:
        started.close()
