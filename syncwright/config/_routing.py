"""Checks of ``routing:`` that need the rest of the document: the connection a rule names
exists and has the rule's role, rule names are unique, no rule is shadowed by an earlier one,
and a legal entity a rule books into is one its NetSuite-style connection can place.

Run on the plain (possibly invalid) document, like every reference check, so that each problem
is reported once beside the type errors.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from syncwright.config._models import ROUTED_ROLES

__all__ = ["MATCH_KEYS", "covers", "routing_problems"]

Loc = tuple[str | int, ...]
#: The account facts a rule can match on (``RouteMatch`` fields).
MATCH_KEYS = ("billing_country", "currency", "legal_entity")


def covers(earlier: Mapping[str, Any], later: Mapping[str, Any]) -> bool:
    """Whether every account ``later`` matches is also matched by ``earlier`` (so a rule with
    ``later`` after one with ``earlier`` never applies). Both are ``when`` mappings."""
    for key in MATCH_KEYS:
        wanted = earlier.get(key)
        if not wanted:
            continue  # earlier does not look at this fact
        given = later.get(key)
        if not given or not set(given) <= set(wanted):
            return False
    return True


def _squash(text: str) -> str:
    return "".join(text.split()).casefold()


def routing_problems(
    data: Mapping[str, Any], check: Callable[[Loc, Any], None]
) -> list[tuple[Loc, str]]:
    """Problems of ``data["routing"]``; unknown connections are reported through ``check``."""
    routing = data.get("routing")
    if not isinstance(routing, Mapping):
        return []
    connections = data.get("connections")
    connections = connections if isinstance(connections, Mapping) else {}
    problems: list[tuple[Loc, str]] = []
    for role, rules in routing.items():
        if role not in ROUTED_ROLES or not isinstance(rules, list):
            continue  # an unknown role is reported by the type check
        names: dict[str, int] = {}
        seen: list[tuple[int, str, Mapping[str, Any]]] = []
        for index, rule in enumerate(rules):
            if not isinstance(rule, Mapping):
                continue
            loc: Loc = ("routing", str(role), index)
            target = rule.get("connection")
            check((*loc, "connection"), target)
            conn = connections.get(target) if isinstance(target, str) else None
            if isinstance(conn, Mapping):
                problems.extend(_connection_problems(loc, str(role), str(target), conn, rule))
            name = rule.get("name")
            if isinstance(name, str):
                if name in names:
                    problems.append(
                        (
                            (*loc, "name"),
                            f"rule name {name!r} is already used at routing.{role}"
                            f"[{names[name]}]; names must be unique",
                        )
                    )
                names.setdefault(name, index)
            when = rule.get("when") or {}
            if not isinstance(when, Mapping):
                continue
            for earlier_index, earlier_name, earlier_when in seen:
                if covers(earlier_when, when):
                    problems.append(
                        (
                            loc,
                            f"rule {name!r} never applies: rule {earlier_name!r} "
                            f"(routing.{role}[{earlier_index}]) comes first and matches every "
                            "account it matches; put the narrower rule first or remove one",
                        )
                    )
                    break
            seen.append((index, str(name), when))
    return problems


def _connection_problems(
    loc: Loc, role: str, target: str, conn: Mapping[str, Any], rule: Mapping[str, Any]
) -> list[tuple[Loc, str]]:
    problems: list[tuple[Loc, str]] = []
    options = conn.get("options")
    options = options if isinstance(options, Mapping) else {}
    if options.get("role") != role:
        problems.append(
            (
                (*loc, "connection"),
                f"connection {target!r} has options.role {options.get('role')!r}, not "
                f"{role!r}; routing.{role} may only name connections of that role",
            )
        )
    subsidiary = rule.get("subsidiary")
    entities = options.get("subsidiaries")
    if isinstance(subsidiary, str) and entities is None and conn.get("vendor") == "netsuite":
        problems.append(
            (
                (*loc, "subsidiary"),
                f"connections.{target}.options.subsidiaries is not set: map legal entity "
                f"{subsidiary!r} to its subsidiary internal id there",
            )
        )
    elif isinstance(subsidiary, str) and isinstance(entities, Mapping):
        known = {_squash(str(key)) for key in entities}
        if _squash(subsidiary) not in known:
            problems.append(
                (
                    (*loc, "subsidiary"),
                    f"legal entity {subsidiary!r} is not under connections.{target}.options."
                    f"subsidiaries ({', '.join(map(str, entities)) or 'empty'}); map it to "
                    "its subsidiary internal id there",
                )
            )
    return problems
