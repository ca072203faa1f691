"""Human-readable differences between two :class:`Settings` (for ``syncwright config diff``)."""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from ._models import Settings
from ._secret import MASK, Secret

__all__ = ["diff_settings"]

_PLAIN_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]*$")


def diff_settings(a: Settings, b: Settings) -> list[str]:
    """What changes going from ``a`` to ``b``, one line per change, in document order.

    Lines look like ``connections.stripe.limits.timeout_seconds: 30.0 -> 10.0``. Secrets are
    compared by value but always shown as ``**********`` (with their source, which is safe).
    Lists of named items (mappings, reconciliation rules) are matched by name.
    """
    out: list[str] = []
    _diff(a, b, "", out)
    return out


def _join(path: str, key: Any) -> str:
    if isinstance(key, int):
        return f"{path}[{key}]"
    key = str(key)
    if _PLAIN_KEY.match(key):
        return f"{path}.{key}" if path else key
    return f"{path}[{key!r}]"


def _fmt(value: Any) -> str:
    if value is None:
        return "unset"
    if isinstance(value, Secret):
        return MASK
    if isinstance(value, BaseModel):
        value = value.model_dump(mode="json")  # secrets are masked by their serializer
    elif isinstance(value, Path):
        value = str(value)
    return json.dumps(value, default=str, ensure_ascii=False)


def _diff(x: Any, y: Any, path: str, out: list[str]) -> None:
    if isinstance(x, Secret) or isinstance(y, Secret):
        _diff_secret(x, y, path, out)
    elif isinstance(x, BaseModel) and type(x) is type(y):
        for name in type(x).model_fields:
            _diff(getattr(x, name), getattr(y, name), _join(path, name), out)
    elif isinstance(x, Mapping) and isinstance(y, Mapping):
        for key in x:
            if key not in y:
                out.append(f"{_join(path, key)}: removed")
            else:
                _diff(x[key], y[key], _join(path, key), out)
        for key in y:
            if key not in x:
                out.append(f"{_join(path, key)}: added")
    elif _is_list(x) and _is_list(y):
        _diff_list(list(x), list(y), path, out)
    elif x != y:
        out.append(f"{path}: {_fmt(x)} -> {_fmt(y)}")


def _is_list(value: Any) -> bool:
    return isinstance(value, Sequence) and not isinstance(value, str | bytes)


def _diff_secret(x: Any, y: Any, path: str, out: list[str]) -> None:
    if isinstance(x, Secret) and isinstance(y, Secret):
        if x == y:
            if x.source != y.source:
                out.append(f"{path}: same value ({MASK}), now read from {y.source}")
            return
        source = f"read from {x.source}" + (
            f", now from {y.source}" if x.source != y.source else ""
        )
        out.append(f"{path}: value changed ({MASK}, {source})")
    elif isinstance(y, Secret):
        out.append(f"{path}: set ({MASK} from {y.source})")
    elif isinstance(x, Secret):
        out.append(f"{path}: removed (was {MASK} from {x.source})")


def _names(items: list[Any]) -> list[str] | None:
    names = [getattr(item, "name", None) for item in items]
    if all(isinstance(n, str) for n in names) and len(set(names)) == len(names):
        return [str(n) for n in names]
    return None


def _diff_list(x: list[Any], y: list[Any], path: str, out: list[str]) -> None:
    if x == y:
        return
    if any(isinstance(item, Secret) for item in (*x, *y)):
        # Rotation lists: what matters is which values were added or dropped, not positions.
        before = Counter(s.reveal() for s in x if isinstance(s, Secret))
        after = Counter(s.reveal() for s in y if isinstance(s, Secret))
        added = sum((after - before).values())
        removed = sum((before - after).values())
        if added or removed:
            out.append(
                f"{path}: {len(x)} -> {len(y)} secrets ({added} added, {removed} removed; "
                f"values {MASK})"
            )
        else:
            out.append(f"{path}: same secrets ({MASK}) in a different order")
        return
    x_names, y_names = _names(x), _names(y)
    if x_names is not None and y_names is not None:
        old = dict(zip(x_names, x, strict=True))
        new = dict(zip(y_names, y, strict=True))
        for name, item in old.items():
            where = f"{path}[{name}]"
            if name in new:
                _diff(item, new[name], where, out)
            else:
                out.append(f"{where}: removed")
        out.extend(f"{path}[{name}]: added" for name in new if name not in old)
        if [n for n in x_names if n in y_names] != [n for n in y_names if n in x_names]:
            out.append(f"{path}: order changed")
        return
    if all(not isinstance(item, BaseModel) for item in (*x, *y)):
        out.append(f"{path}: {_fmt(x)} -> {_fmt(y)}")
        return
    for index in range(max(len(x), len(y))):
        if index >= len(y):
            out.append(f"{_join(path, index)}: removed")
        elif index >= len(x):
            out.append(f"{_join(path, index)}: added")
        else:
            _diff(x[index], y[index], _join(path, index), out)
