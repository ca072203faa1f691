"""Chargebee's request encoding: form bodies and query strings with bracket keys.

``subscription_items[item_price_id][0]=p&subscription_items[quantity][0]=2`` is a list of
objects (index last, as Chargebee's SDKs send it), ``enabled_events[0]=a`` a list of values,
``billing_address[line1]=...`` an object, ``email[is]=a@b.c`` a list filter (operator in
brackets), ``event_type[in]=["a","b"]`` a filter whose value is a list (JSON, or the Python
SDK's ``['a', 'b']``).
https://apidocs.chargebee.com/docs/api#filtering
"""

from __future__ import annotations

import ast
import json
import re
from collections.abc import Iterable
from typing import Any

from ._objects import ChargebeeAPIError, wrong_value

_KEY = re.compile(r"^([A-Za-z0-9_]+)((?:\[[A-Za-z0-9_]*\])*)$")


def decode(pairs: Iterable[tuple[str, str]]) -> dict[str, Any]:
    """Bracket pairs -> nested params (see the module doc)."""
    out: dict[str, Any] = {}
    for key, value in pairs:
        match = _KEY.match(key)
        if match is None:
            raise wrong_value(key, f"{key} : is not a valid parameter name")
        name = match.group(1)
        parts = re.findall(r"\[([A-Za-z0-9_]*)\]", match.group(2))
        if not parts:
            out[name] = value
        elif len(parts) == 1:
            inner: int | str = int(parts[0]) if parts[0].isdigit() else parts[0]
            out.setdefault(name, {})[inner] = value
        elif len(parts) == 2 and parts[1].isdigit():
            rows = out.setdefault(name, {})
            rows.setdefault(int(parts[1]), {})[parts[0]] = value
        else:
            raise wrong_value(key, f"{key} : nesting this deep is not supported")
    for name, value in list(out.items()):
        if isinstance(value, dict) and value and all(isinstance(k, int) for k in value):
            out[name] = [value[i] for i in sorted(value)]
    return out


def as_list(value: str) -> list[str]:
    """A filter's list value: JSON (``["a","b"]``) or the Python SDK's ``['a', 'b']``."""
    text = value.strip()
    for parse in (json.loads, ast.literal_eval):
        try:
            parsed = parse(text)
        except (ValueError, SyntaxError):
            continue
        if isinstance(parsed, list):
            return [str(v) for v in parsed]
    return [v.strip() for v in text.strip("[]").split(",") if v.strip()]


def integer(params: dict[str, Any], name: str, default: int | None = None) -> int | None:
    raw = params.get(name)
    if raw in (None, ""):
        return default
    try:
        return int(str(raw))
    except ValueError:
        raise wrong_value(name, f"{name} : invalid integer value {raw!r}") from None


def boolean(params: dict[str, Any], name: str, default: bool = False) -> bool:
    raw = params.get(name)
    if raw in (None, ""):
        return default
    if str(raw).lower() in ("true", "false"):
        return str(raw).lower() == "true"
    raise wrong_value(name, f"{name} : invalid boolean value {raw!r}")


def meta_data(params: dict[str, Any]) -> dict[str, Any]:
    """``meta_data`` is a JSON object sent as text."""
    raw = params.get("meta_data")
    if raw in (None, ""):
        return {}
    try:
        parsed = json.loads(raw) if isinstance(raw, str) else raw
    except ValueError:
        raise wrong_value("meta_data", "meta_data : invalid JSON") from None
    if not isinstance(parsed, dict):
        raise wrong_value("meta_data", "meta_data : must be a JSON object")
    return parsed


def required(params: dict[str, Any], name: str) -> str:
    value = params.get(name)
    if value in (None, ""):
        raise ChargebeeAPIError(400, "param_wrong_value", f"{name} : cannot be blank", param=name)
    return str(value)
