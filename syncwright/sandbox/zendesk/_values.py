"""Coercion of request values the way Zendesk tolerates them, plus shared small helpers."""

from __future__ import annotations

import re
from collections.abc import Container, Mapping
from typing import Any

from syncwright.sandbox.zendesk._errors import ValidationErrors

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def is_email(value: str) -> bool:
    return bool(_EMAIL.match(value))


def opt_str(
    payload: Mapping[str, Any], name: str, errors: ValidationErrors, label: str
) -> str | None:
    """A nullable string; numbers are accepted and turned into strings (as Zendesk does)."""
    value = payload.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        errors.invalid(name, label, value)
        return None
    return str(value)


def opt_int(
    payload: Mapping[str, Any], name: str, errors: ValidationErrors, label: str
) -> int | None:
    value = payload.get(name)
    if value is None:
        return None
    if isinstance(value, bool):
        errors.invalid(name, label, value)
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value)
    errors.invalid(name, label, value)
    return None


def one_of(
    payload: Mapping[str, Any], name: str, allowed: Container[Any], errors: ValidationErrors
) -> bool:
    """Whether ``payload[name]`` is one of ``allowed``; if not, an ``InvalidValue`` whose label
    is the name in words (``ticket_type`` -> "Ticket type")."""
    value = payload[name]
    if value in allowed:
        return True
    errors.invalid(name, name.replace("_", " ").capitalize(), value)
    return False


def opt_bool(payload: Mapping[str, Any], name: str, errors: ValidationErrors, label: str) -> bool:
    value = payload.get(name)
    if isinstance(value, bool):
        return value
    if value in ("true", "false"):
        return bool(value == "true")
    errors.invalid(name, label, value)
    return False


def tags(value: Any, errors: ValidationErrors, name: str = "tags") -> list[str]:
    """Zendesk tags: lower-case, no spaces (a space separates tags), no duplicates, in order."""
    if value is None:
        return []
    if isinstance(value, str):
        value = value.split()
    if not isinstance(value, list) or not all(isinstance(tag, str) for tag in value):
        errors.invalid(name, "Tags", value)
        return []
    seen: dict[str, None] = {}
    for raw in value:
        for tag in raw.lower().split():
            seen.setdefault(tag, None)
    return list(seen)


def str_list(value: Any, errors: ValidationErrors, name: str, label: str) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        errors.invalid(name, label, value)
        return []
    return list(value)


def int_list(value: Any, errors: ValidationErrors, name: str, label: str) -> list[int]:
    if value is None:
        return []
    if not isinstance(value, list) or not all(
        isinstance(item, int) and not isinstance(item, bool) for item in value
    ):
        errors.invalid(name, label, value)
        return []
    return list(value)


def id_str(value: Any) -> str:
    """Ids in event payloads are strings; an absent id is ``"0"`` (see the vendor samples)."""
    return "0" if value is None else str(value)
