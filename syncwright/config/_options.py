"""``connections.<name>.options`` checked against each connector's declared options model.

The model belongs to the connector (``Connector.options_model``), so this check loads the
connector class of each connection's vendor through the entry points. Problems come back with
their full path (``connections.shop.options.page_size``) to be reported with every other
problem of the file.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from syncwright.errors import ConfigError

from ._models import Loc
from ._vendors import vendor_entry_points

__all__ = ["option_problems"]


def option_problems(
    data: Any, describe: Callable[[ErrorDetails], tuple[Loc, str]]
) -> list[tuple[Loc, str]]:
    """Every problem of every connection's options; ``describe`` words a pydantic error the way
    the rest of the config's problems are worded. Connections whose vendor is not installed, or
    whose options are not a mapping, are left to the other checks (each problem is named once)."""
    connections = data.get("connections") if isinstance(data, Mapping) else None
    if not isinstance(connections, Mapping):
        return []
    installed = vendor_entry_points()
    problems: list[tuple[Loc, str]] = []
    for name, connection in connections.items():
        if not isinstance(connection, Mapping):
            continue
        vendor = connection.get("vendor")
        options = connection.get("options")
        if not isinstance(vendor, str) or vendor not in installed:
            continue
        if options is not None and not isinstance(options, Mapping):
            continue
        where: Loc = ("connections", str(name), "options")
        try:
            model = _options_model(vendor)
        except ConfigError as exc:
            problems.append((("connections", str(name), "vendor"), exc.message))
            continue
        try:
            model.model_validate(options or {})
        except ValidationError as exc:
            for error in exc.errors(include_url=False):
                loc = (*where, *error["loc"])
                if error["type"] == "extra_forbidden":
                    allowed = ", ".join(_fields(model, error["loc"][:-1])) or "none"
                    problems.append(
                        (loc, f"unknown option for vendor {vendor!r}; allowed here: {allowed}")
                    )
                else:
                    problems.append(describe({**error, "loc": loc}))
    return problems


def _options_model(vendor: str) -> type[BaseModel]:
    # Imported here: the connector kit imports this package, not the other way round.
    from syncwright.connectors._base.registry import connector_class

    return connector_class(vendor).options_model


def _fields(model: type[BaseModel], loc: tuple[Any, ...]) -> list[str]:
    """Field names of the (nested) model at ``loc`` inside ``model``."""
    current: Any = model
    for part in loc:
        field = current.model_fields.get(str(part)) if _is_model(current) else None
        if field is None:
            return []
        current = field.annotation
        # ``X | None``: the model inside.
        args = [a for a in getattr(current, "__args__", ()) if _is_model(a)]
        if args:
            current = args[0]
    return list(current.model_fields) if _is_model(current) else []


def _is_model(tp: Any) -> bool:
    return isinstance(tp, type) and issubclass(tp, BaseModel)
