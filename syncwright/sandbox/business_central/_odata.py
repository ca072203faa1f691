"""The slice of OData v4 query options Business Central's API v2.0 answers that we emulate.

``$filter`` with ``eq ne gt ge lt le`` joined by ``and``/``or`` over string, number, boolean,
GUID and date/time literals (Microsoft: "Using filtering in API calls",
https://learn.microsoft.com/en-us/dynamics365/business-central/dev-itpro/developer/devenv-connect-apps-filtering);
``$top``, ``$skip``, ``$orderby``, ``$select``, ``$expand`` of document lines. An expression we do
not understand is refused with ``BadRequest_NotFound`` ("Bad Request - Error in query syntax"),
as Business Central does, never silently ignored.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from syncwright.sandbox.business_central._errors import BcApiError

__all__ = ["Predicate", "parse_filter", "parse_orderby", "query_error"]

Predicate = Callable[[Mapping[str, Any]], bool]

_TOKEN = re.compile(
    r"\s*(?:(?P<str>'(?:[^']|'')*')|(?P<paren>[()])|"
    r"(?P<dt>\d{4}-\d{2}-\d{2}(?:T[0-9:.]+(?:Z|[+-]\d{2}:\d{2})?)?)|"
    r"(?P<guid>[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})|"
    r"(?P<num>-?\d+(?:\.\d+)?)|(?P<word>[A-Za-z_][A-Za-z0-9_]*))"
)
_COMPARE = {"eq", "ne", "gt", "ge", "lt", "le"}


def query_error(detail: str) -> BcApiError:
    return BcApiError(400, "BadRequest_NotFound", f"Bad Request - Error in query syntax. {detail}")


@dataclass
class _Literal:
    value: Any


def _tokens(text: str) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    pos = 0
    text = text.strip()
    while pos < len(text):
        match = _TOKEN.match(text, pos)
        if match is None or match.end() == pos:
            raise query_error(f"Unexpected character at position {pos}.")
        kind = match.lastgroup or ""
        out.append((kind, match.group(kind)))
        pos = match.end()
    return out


def _comparable(value: Any) -> Any:
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, int | float | Decimal):
        return Decimal(str(value))
    return str(value)


def _compare(op: str, left: Any, right: Any) -> bool:
    a, b = _comparable(left), _comparable(right)
    if op == "eq":
        return bool(a == b)
    if op == "ne":
        return bool(a != b)
    if a is None or b is None or type(a) is not type(b):
        return False
    ordered = {"gt": a > b, "ge": a >= b, "lt": a < b, "le": a <= b}
    return bool(ordered[op])


class _Parser:
    def __init__(self, tokens: list[tuple[str, str]], fields: frozenset[str]) -> None:
        self.tokens = tokens
        self.fields = fields
        self.pos = 0

    def peek(self) -> tuple[str, str] | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def take(self) -> tuple[str, str]:
        token = self.peek()
        if token is None:
            raise query_error("Unexpected end of expression.")
        self.pos += 1
        return token

    def expression(self) -> Predicate:
        left = self.conjunction()
        while self.peek() == ("word", "or"):
            self.take()
            right = self.conjunction()
            left = (lambda a, b: lambda r: a(r) or b(r))(left, right)
        return left

    def conjunction(self) -> Predicate:
        left = self.comparison()
        while self.peek() == ("word", "and"):
            self.take()
            right = self.comparison()
            left = (lambda a, b: lambda r: a(r) and b(r))(left, right)
        return left

    def comparison(self) -> Predicate:
        if self.peek() == ("paren", "("):
            self.take()
            inner = self.expression()
            if self.take() != ("paren", ")"):
                raise query_error("')' expected.")
            return inner
        kind, name = self.take()
        if kind != "word" or name not in self.fields:
            raise query_error(f"Could not find a property named '{name}'.")
        kind, op = self.take()
        if kind != "word" or op not in _COMPARE:
            raise query_error(f"Unknown operator '{op}'.")
        value = self.literal()
        return lambda record: _compare(op, record.get(name), value)

    def literal(self) -> Any:
        kind, text = self.take()
        if kind == "str":
            return text[1:-1].replace("''", "'")
        if kind == "num":
            return Decimal(text)
        if kind in ("dt", "guid"):
            return text
        if kind == "word" and text in ("true", "false", "null"):
            return {"true": True, "false": False, "null": None}[text]
        raise query_error(f"Literal expected, found '{text}'.")


def parse_filter(text: str, fields: frozenset[str]) -> Predicate:
    """A predicate over records for an OData ``$filter`` expression."""
    parser = _Parser(_tokens(text), fields)
    predicate = parser.expression()
    if parser.peek() is not None:
        raise query_error(f"Unexpected '{parser.peek()[1]}'.")  # type: ignore[index]
    return predicate


def parse_orderby(text: str, fields: frozenset[str]) -> list[tuple[str, bool]]:
    """``$orderby=a desc,b`` -> [(a, descending), (b, ascending)]."""
    keys: list[tuple[str, bool]] = []
    for part in text.split(","):
        words = part.split()
        if not words or len(words) > 2 or words[0] not in fields:
            raise query_error(f"Could not order by '{part.strip()}'.")
        if len(words) == 2 and words[1] not in ("asc", "desc"):
            raise query_error(f"Unknown sort direction '{words[1]}'.")
        keys.append((words[0], len(words) == 2 and words[1] == "desc"))
    return keys
