"""Vendor name -> connector class. Connectors register themselves when their package is imported."""

from __future__ import annotations

import importlib
from typing import TypeVar

from syncwright.connectors._base.connector import Connector
from syncwright.errors import ConfigError

_REGISTRY: dict[str, type[Connector]] = {}

C = TypeVar("C", bound=type[Connector])


def register_connector(cls: C) -> C:
    _REGISTRY[cls.vendor] = cls
    return cls


def connector_class(vendor: str) -> type[Connector]:
    if vendor not in _REGISTRY:
        # Connectors live in syncwright.connectors.<vendor>; importing the package registers it.
        try:
            importlib.import_module(f"syncwright.connectors.{vendor}.connector")
        except ModuleNotFoundError as exc:
            raise ConfigError(
                f"no connector for vendor {vendor!r}",
                code="config.unknown_vendor",
                problems=[f"vendor {vendor!r}: no module syncwright.connectors.{vendor}.connector"],
            ) from exc
    if vendor not in _REGISTRY:
        raise ConfigError(f"connector module for {vendor!r} did not register a connector")
    return _REGISTRY[vendor]
