"""The ``q`` filter of a record collection GET (``/record/v1/customer?q=email START_WITH "a"``).

Oracle, "Record Collection Filtering" (section_1545222128): conditions of *field operator value*
joined with AND / OR (AND binds tighter; parentheses and BETWEEN/WITHIN and the date operators
are not emulated); each operator also has its ``_NOT`` form. String operators match
case-insensitively, as NetSuite searches do.
Refusing a filter we cannot evaluate is deliberate: silently ignoring it would hand a client
every record of the type.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from typing import Any

from syncwright.sandbox.netsuite._errors import NetSuiteApiError
from syncwright.sandbox.netsuite._schema import RecordType

__all__ = ["record_filter"]

_TOKEN = re.compile(r'\s*(?:"(?P<quoted>[^"]*)"|\[(?P<list>[^\]]*)\]|(?P<word>[^\s"\[\]]+))')
_UNARY = {"EMPTY", "EMPTY_NOT"}


def _error(message: str) -> NetSuiteApiError:
    return NetSuiteApiError(
        400,
        "INVALID_PARAMETER",
        f"Invalid query parameter q: {message}",
        query_param="q",
    )


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value)


def _number(value: Any) -> Decimal | None:
    try:
        return Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None


def _ordered(test: Callable[[int], bool]) -> Callable[[Any, str], bool]:
    def compare(actual: Any, wanted: str) -> bool:
        a, b = _number(actual), _number(wanted)
        if a is not None and b is not None:
            return test((a > b) - (a < b))
        text = _text(actual)
        return bool(text) and test((text > wanted) - (text < wanted))

    return compare


_OPERATORS: dict[str, Callable[[Any, str], bool]] = {
    "IS": lambda a, w: _text(a).lower() == w.lower(),
    "IS_NOT": lambda a, w: _text(a).lower() != w.lower(),
    "EQUAL": _ordered(lambda c: c == 0),
    "GREATER": _ordered(lambda c: c > 0),
    "GREATER_OR_EQUAL": _ordered(lambda c: c >= 0),
    "LESS": _ordered(lambda c: c < 0),
    "LESS_OR_EQUAL": _ordered(lambda c: c <= 0),
    "START_WITH": lambda a, w: _text(a).lower().startswith(w.lower()),
    "END_WITH": lambda a, w: _text(a).lower().endswith(w.lower()),
    "ENDWITH": lambda a, w: _text(a).lower().endswith(w.lower()),
    "CONTAIN": lambda a, w: w.lower() in _text(a).lower(),
    "EMPTY": lambda a, w: _text(a) == "",
    "EMPTY_NOT": lambda a, w: _text(a) != "",
}


Predicate = Callable[[dict[str, Any]], bool]


def _any_of(name: str, wanted: set[str]) -> Predicate:
    return lambda rec: _text(rec.get(name)).lower() in wanted


def _condition(name: str, test: Callable[[Any, str], bool], wanted: str) -> Predicate:
    return lambda rec: test(rec.get(name), wanted)


def _negated(predicate: Predicate, negate: bool) -> Predicate:
    return (lambda rec: not predicate(rec)) if negate else predicate


def record_filter(rt: RecordType, q: str) -> Predicate:
    """A predicate over stored records for one ``q`` expression."""
    tokens: list[tuple[str, str]] = []
    pos = 0
    q = q.strip()
    while pos < len(q):
        match = _TOKEN.match(q, pos)
        if match is None or match.end() == pos:
            raise _error(f"cannot read '{q[pos:]}'")
        kind = match.lastgroup or "word"
        tokens.append((kind, match.group(kind)))
        pos = match.end()

    groups: list[list[Predicate]] = [[]]
    index = 0
    while index < len(tokens):
        if len(tokens) - index < 2:
            raise _error("a condition needs a field and an operator")
        field_name, operator = tokens[index][1], tokens[index + 1][1].upper()
        negate = operator.endswith("_NOT") and operator not in _OPERATORS
        if negate:
            operator = operator[: -len("_NOT")]
        spec = rt.field(field_name)
        name = spec.name if spec else ("id" if field_name.lower() == "id" else None)
        if name is None:
            raise _error(f"unknown field '{field_name}' on record type '{rt.name}'")
        if operator == "ANY_OF":
            if len(tokens) - index < 3:
                raise _error("ANY_OF needs a value list")
            kind, raw = tokens[index + 2]
            values = [v.strip().strip('"') for v in raw.split(",")] if kind == "list" else [raw]
            wanted_any = {v.lower() for v in values if v}
            groups[-1].append(_negated(_any_of(name, wanted_any), negate))
            index += 3
        elif operator in _OPERATORS:
            test = _OPERATORS[operator]
            if operator in _UNARY:
                wanted, index = "", index + 2
            else:
                if len(tokens) - index < 3:
                    raise _error(f"{operator} needs a value")
                wanted, index = tokens[index + 2][1], index + 3
            groups[-1].append(_negated(_condition(name, test, wanted), negate))
        else:
            raise _error(f"unknown operator '{operator}'")
        if index < len(tokens):
            joiner = tokens[index][1].upper()
            if joiner == "OR":
                groups.append([])
            elif joiner != "AND":
                raise _error(f"expected AND or OR, found '{tokens[index][1]}'")
            index += 1
            if index == len(tokens):
                raise _error(f"a condition must follow {joiner}")
    return lambda rec: any(all(test(rec) for test in group) for group in groups)
