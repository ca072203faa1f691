"""Vendor artifacts the tests compare against live in the repository (``tests/vendor``, see its
PROVENANCE.md), so a missing one is a broken checkout: the test fails, it never skips."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

VENDOR_DIR = Path(__file__).resolve().parent / "vendor"


def vendor_path(relative: str) -> Path:
    """``tests/vendor/<relative>``; fails the test when the file is not there."""
    path = VENDOR_DIR / relative
    if not path.is_file():
        pytest.fail(
            f"vendor artifact missing: {path}; it belongs in the repository "
            "(see tests/vendor/PROVENANCE.md)",
            pytrace=False,
        )
    return path


def vendor_json(relative: str) -> Any:
    return json.loads(vendor_path(relative).read_text(encoding="utf-8"))
