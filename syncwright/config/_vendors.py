"""Which vendors have a connector installed: the ``syncwright.connectors`` entry-point group.

Kept in the config package, and free of connector imports, so that validating a config can name
the installed vendors without importing (or circularly depending on) any connector. Built-in
connectors are declared in syncwright's own ``pyproject.toml`` exactly as a third-party package
declares its own.
"""

from __future__ import annotations

from importlib import metadata
from typing import Final

__all__ = ["ENTRY_POINT_GROUP", "installed_vendors", "vendor_entry_points"]

#: The entry-point group a connector package registers its connector class under.
ENTRY_POINT_GROUP: Final = "syncwright.connectors"


def vendor_entry_points() -> dict[str, metadata.EntryPoint]:
    """Vendor name -> the entry point of its connector class. Read afresh on every call, so a
    package installed while the process runs (or a test's ``.dist-info``) is seen."""
    found: dict[str, metadata.EntryPoint] = {}
    for entry in metadata.entry_points(group=ENTRY_POINT_GROUP):
        # Two distributions claiming one vendor: the first on sys.path wins, as imports do.
        found.setdefault(entry.name, entry)
    return found


def installed_vendors() -> tuple[str, ...]:
    """The vendor names a connection may use, sorted."""
    return tuple(sorted(vendor_entry_points()))
