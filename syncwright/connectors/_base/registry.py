"""Vendor name -> connector class, found through the ``syncwright.connectors`` entry points.

A connector package declares its class in its own ``pyproject.toml``::

    [project.entry-points."syncwright.connectors"]
    acme = "acme_syncwright.connector:AcmeConnector"

and ``pip install`` makes it usable from ``syncwright.yaml`` (``vendor: acme``). The built-in
connectors are declared the same way in syncwright's ``pyproject.toml``.
"""

from __future__ import annotations

from typing import TypeVar

from syncwright.config._vendors import ENTRY_POINT_GROUP, installed_vendors, vendor_entry_points
from syncwright.connectors._base.connector import Connector
from syncwright.errors import ConfigError

__all__ = ["connector_class", "installed_vendors", "register_connector"]

_LOADED: dict[str, type[Connector]] = {}

C = TypeVar("C", bound=type[Connector])


def register_connector(cls: C) -> C:
    """Make ``cls`` the connector of ``cls.vendor`` in this process without an entry point (a
    connector defined in a test or a script). Installed packages use the entry point instead."""
    _LOADED[cls.vendor] = cls
    return cls


def connector_class(vendor: str) -> type[Connector]:
    """The connector class of ``vendor``, imported on first use.

    :class:`ConfigError` when no connector for ``vendor`` is installed, or when its entry point
    does not load a :class:`Connector` subclass whose ``vendor`` is that name.
    """
    if vendor in _LOADED:
        return _LOADED[vendor]
    entry = vendor_entry_points().get(vendor)
    if entry is None:
        installed = ", ".join(installed_vendors()) or "none"
        raise ConfigError(
            f"no connector installed for vendor {vendor!r}; installed: {installed}",
            code="config.unknown_vendor",
            problems=[
                f"vendor {vendor!r}: install a package that declares it in the entry-point "
                f"group {ENTRY_POINT_GROUP!r}, or use one of: {installed}"
            ],
        )
    where = f"entry point {vendor} = {entry.value} ({ENTRY_POINT_GROUP})"
    try:
        loaded = entry.load()
    except (ImportError, AttributeError) as exc:
        raise ConfigError(
            f"the connector for vendor {vendor!r} does not load: {type(exc).__name__}: {exc}",
            code="config.connector_import",
            problems=[f"{where}: {exc}"],
        ) from exc
    if not (isinstance(loaded, type) and issubclass(loaded, Connector)):
        raise ConfigError(
            f"the connector for vendor {vendor!r} is not a Connector class",
            code="config.connector_type",
            problems=[
                f"{where}: names {loaded!r}, not a subclass of syncwright.connectors.Connector"
            ],
        )
    declared = getattr(loaded, "vendor", None)
    if declared != vendor:
        raise ConfigError(
            f"the connector for vendor {vendor!r} declares vendor {declared!r}",
            code="config.connector_vendor",
            problems=[f"{where}: its class attribute vendor must be {vendor!r}"],
        )
    _LOADED[vendor] = loaded
    return loaded
