"""A SOQL subset: enough for sync engines that page through objects and poll on timestamps.

Grammar (keywords case-insensitive, like SOQL)::

    SELECT (COUNT() | field, ...) FROM Object
    [WHERE condition] [ORDER BY field [ASC|DESC] [NULLS FIRST|LAST], ...]
    [LIMIT n] [OFFSET n]

    condition := unary ((AND unary)* | (OR unary)*)      -- mixing needs parentheses, as in SOQL
    unary     := NOT unary | '(' condition ')' | field op value
               | field [NOT] IN (value, ...) | field [NOT] LIKE 'pattern'
    op        := = | != | <> | < | <= | > | >=
    value     := 'string' | number | true | false | null | 2026-01-31 | 2026-01-31T09:30:00Z
               | TODAY | YESTERDAY | TOMORROW | LAST_N_DAYS:n | NEXT_N_DAYS:n

No relationship paths (``Account.Name``), sub-queries, aggregates other than ``COUNT()``,
``FIELDS()``, ``GROUP BY`` or ``INCLUDES``. Text comparisons are case-insensitive, as in SOQL.
Reference: https://developer.salesforce.com/docs/atlas.en-us.soql_sosl.meta/soql_sosl/sforce_api_calls_soql_select.htm
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ._errors import SalesforceApiError, malformed_query
from ._ids import normalize_id
from ._schema import NUMBER_TYPES, TEXT_TYPES, FieldDef, ObjectDef, Schema
from ._values import parse_date, parse_datetime

Record = dict[str, Any]

_TOKEN_RE = re.compile(
    r"""
    (?P<ws>\s+)
  | (?P<string>'(?:[^'\\]|\\.)*')
  | (?P<datetime>\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:?\d{2}))
  | (?P<date>\d{4}-\d{2}-\d{2})
  | (?P<number>-?\d+(?:\.\d+)?)
  | (?P<ident>[A-Za-z_][A-Za-z0-9_.]*(?::\d+)?)
  | (?P<op><=|>=|!=|<>|=|<|>)
  | (?P<punct>[(),])
    """,
    re.VERBOSE,
)
_ESCAPES = {"n": "\n", "r": "\r", "t": "\t", "b": "\b", "f": "\f", "'": "'", '"': '"', "\\": "\\"}
_KEYWORDS = {
    "SELECT", "FROM", "WHERE", "AND", "OR", "NOT", "IN", "LIKE", "ORDER", "BY", "ASC",
    "DESC", "NULLS", "FIRST", "LAST", "LIMIT", "OFFSET", "COUNT", "TRUE", "FALSE", "NULL",
}  # fmt: skip
_DATE_LITERALS = {"TODAY", "YESTERDAY", "TOMORROW", "LAST_N_DAYS", "NEXT_N_DAYS"}


@dataclass(frozen=True)
class Token:
    kind: str
    text: str
    pos: int

    @property
    def upper(self) -> str:
        return self.text.upper()


def tokenize(text: str) -> list[Token]:
    tokens: list[Token] = []
    pos = 0
    while pos < len(text):
        match = _TOKEN_RE.match(text, pos)
        if match is None:
            raise malformed_query(f"unexpected token: '{text[pos:].split()[0]}'")
        kind = match.lastgroup or ""
        if kind != "ws":
            tokens.append(Token(kind, match.group(), pos))
        pos = match.end()
    return tokens


@dataclass(frozen=True)
class Literal:
    kind: str  # string, number, boolean, null, date, datetime, dateliteral
    value: Any
    raw: str


@dataclass
class Comparison:
    field: str
    op: str  # = != < <= > >= IN NOT IN LIKE
    values: list[Literal]
    pos: int
    definition: FieldDef | None = None


@dataclass
class BoolOp:
    op: str  # AND / OR / NOT
    parts: list[Condition]


Condition = Comparison | BoolOp


@dataclass
class OrderItem:
    field: str
    descending: bool
    nulls_last: bool
    pos: int


@dataclass
class Query:
    text: str
    object_name: str
    object_pos: int
    fields: list[tuple[str, int]] = field(default_factory=list)
    count_only: bool = False
    where: Condition | None = None
    order_by: list[OrderItem] = field(default_factory=list)
    limit: int | None = None
    offset: int | None = None
    obj: ObjectDef | None = None
    selected: list[str] = field(default_factory=list)


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens = tokenize(text)
        self.i = 0

    def peek(self, offset: int = 0) -> Token | None:
        j = self.i + offset
        return self.tokens[j] if j < len(self.tokens) else None

    def next(self) -> Token:
        token = self.peek()
        if token is None:
            raise malformed_query("unexpected end of query")
        self.i += 1
        return token

    def at(self, *words: str) -> bool:
        token = self.peek()
        return token is not None and token.kind == "ident" and token.upper in words

    def expect(self, word: str) -> Token:
        token = self.next()
        if token.upper != word:
            raise malformed_query(f"unexpected token: '{token.text}'")
        return token

    def ident(self) -> Token:
        token = self.next()
        if token.kind != "ident" or token.upper in _KEYWORDS:
            raise malformed_query(f"unexpected token: '{token.text}'")
        return token

    def parse(self) -> Query:
        self.expect("SELECT")
        fields: list[tuple[str, int]] = []
        count_only = False
        if self.at("COUNT") and (p := self.peek(1)) is not None and p.text == "(":
            self.next(), self.next()
            if self.next().text != ")":
                raise malformed_query("only COUNT() is supported by this emulator")
            count_only = True
        else:
            while True:
                token = self.ident()
                if self.peek() is not None and self.peek().text == "(":  # type: ignore[union-attr]
                    raise malformed_query(
                        f"function {token.text}() is not supported by this emulator"
                    )
                fields.append((token.text, token.pos))
                if self.peek() is not None and self.peek().text == ",":  # type: ignore[union-attr]
                    self.next()
                    continue
                break
        self.expect("FROM")
        obj = self.ident()
        query = Query(self.text, obj.text, obj.pos, fields, count_only)
        if self.at("WHERE"):
            self.next()
            query.where = self.condition()
        if self.at("ORDER"):
            self.next()
            self.expect("BY")
            query.order_by = self.order_items()
        if self.at("LIMIT"):
            self.next()
            query.limit = self.integer()
        if self.at("OFFSET"):
            self.next()
            query.offset = self.integer()
        if self.peek() is not None:
            raise malformed_query(f"unexpected token: '{self.peek().text}'")  # type: ignore[union-attr]
        return query

    def integer(self) -> int:
        token = self.next()
        if token.kind != "number" or not token.text.isdigit():
            raise malformed_query(f"unexpected token: '{token.text}'")
        return int(token.text)

    def order_items(self) -> list[OrderItem]:
        items = []
        while True:
            token = self.ident()
            descending = False
            if self.at("ASC", "DESC"):
                descending = self.next().upper == "DESC"
            nulls_last = descending
            if self.at("NULLS"):
                self.next()
                word = self.next().upper
                if word not in ("FIRST", "LAST"):
                    raise malformed_query(f"unexpected token: '{word}'")
                nulls_last = word == "LAST"
            items.append(OrderItem(token.text, descending, nulls_last, token.pos))
            if self.peek() is not None and self.peek().text == ",":  # type: ignore[union-attr]
                self.next()
                continue
            return items

    def condition(self) -> Condition:
        first = self.unary()
        parts = [first]
        joiner: str | None = None
        while self.at("AND", "OR"):
            word = self.next().upper
            if joiner is not None and word != joiner:
                raise malformed_query(
                    f"unexpected token: '{word}' (use parentheses to mix AND and OR)"
                )
            joiner = word
            parts.append(self.unary())
        return first if joiner is None else BoolOp(joiner, parts)

    def unary(self) -> Condition:
        if self.at("NOT"):
            self.next()
            return BoolOp("NOT", [self.unary()])
        token = self.peek()
        if token is not None and token.text == "(":
            self.next()
            inner = self.condition()
            if self.next().text != ")":
                raise malformed_query("expecting ')'")
            return inner
        name = self.ident()
        if self.at("NOT"):
            self.next()
            if not self.at("IN", "LIKE"):
                following = self.peek()
                raise malformed_query(
                    f"unexpected token: '{following.text if following is not None else ''}'"
                )
            return BoolOp("NOT", [self.comparison_tail(name, self.next().upper)])
        if self.at("IN", "LIKE"):
            return self.comparison_tail(name, self.next().upper)
        op = self.next()
        if op.kind != "op":
            raise malformed_query(f"unexpected token: '{op.text}'")
        return Comparison(
            name.text, "!=" if op.text == "<>" else op.text, [self.literal()], name.pos
        )

    def comparison_tail(self, name: Token, word: str) -> Comparison:
        if word == "LIKE":
            value = self.literal()
            if value.kind != "string":
                raise malformed_query("LIKE needs a quoted string")
            return Comparison(name.text, "LIKE", [value], name.pos)
        if self.next().text != "(":
            raise malformed_query("expecting '('")
        if self.at("SELECT"):
            raise malformed_query("semi-join sub-queries are not supported by this emulator")
        values = [self.literal()]
        while self.peek() is not None and self.peek().text == ",":  # type: ignore[union-attr]
            self.next()
            values.append(self.literal())
        if self.next().text != ")":
            raise malformed_query("expecting ')'")
        return Comparison(name.text, "IN", values, name.pos)

    def literal(self) -> Literal:
        token = self.next()
        if token.kind == "string":
            body = token.text[1:-1]
            text = re.sub(r"\\(.)", lambda m: _ESCAPES.get(m.group(1), "\\" + m.group(1)), body)
            return Literal("string", text, token.text)
        if token.kind == "number":
            number = float(token.text) if "." in token.text else int(token.text)
            return Literal("number", number, token.text)
        if token.kind == "date":
            day = parse_date(token.text)
            if day is None:
                raise malformed_query(f"invalid date: {token.text}")
            return Literal("date", day, token.text)
        if token.kind == "datetime":
            moment = parse_datetime(token.text)
            if moment is None:
                raise malformed_query(f"invalid date-time: {token.text}")
            return Literal("datetime", moment, token.text)
        if token.kind == "ident":
            upper = token.upper
            if upper in ("TRUE", "FALSE"):
                return Literal("boolean", upper == "TRUE", token.text)
            if upper == "NULL":
                return Literal("null", None, token.text)
            base, _, n = upper.partition(":")
            if base in _DATE_LITERALS and (bool(n) == base.endswith("_N_DAYS")):
                return Literal("dateliteral", (base, int(n or 0)), token.text)
        raise malformed_query(f"unexpected token: '{token.text}'")


def parse(text: str) -> Query:
    return _Parser(text).parse()


def _position_error(query: Query, pos: int, code: str, message: str) -> SalesforceApiError:
    line_start = query.text.rfind("\n", 0, pos) + 1
    row = query.text.count("\n", 0, pos) + 1
    column = pos - line_start + 1
    line_end = query.text.find("\n", pos)
    line = query.text[line_start : line_end if line_end != -1 else None]
    caret = " " * (column - 1) + "^"
    text = f"\n{line}\n{caret}\nERROR at Row:{row}:Column:{column}\n{message}"
    return SalesforceApiError.one(400, code, text)


def resolve(query: Query, schema: Schema) -> Query:
    """Bind the query to the schema: canonical names, and Salesforce's INVALID_FIELD errors."""
    obj = schema.get(query.object_name)
    if obj is None or not obj.queryable:
        raise _position_error(
            query,
            query.object_pos,
            "INVALID_TYPE",
            f"sObject type '{query.object_name}' is not supported. If you are attempting to use "
            "a custom object, be sure to append the '__c' after the entity name. Please "
            "reference your WSDL or the describe call for the appropriate names.",
        )
    query.obj = obj

    def bind(name: str, pos: int) -> FieldDef:
        if "." in name:
            raise _position_error(
                query,
                pos,
                "INVALID_FIELD",
                f"Relationship paths such as '{name}' are not supported by the syncwright "
                "Salesforce emulator; select the lookup id field instead.",
            )
        definition = obj.field(name)
        if definition is None:
            raise _position_error(
                query,
                pos,
                "INVALID_FIELD",
                f"No such column '{name}' on entity '{obj.name}'. If you are attempting to use "
                "a custom field, be sure to append the '__c' after the custom field name. Please "
                "reference your WSDL or the describe call for the appropriate names.",
            )
        return definition

    seen: set[str] = set()
    for name, pos in query.fields:
        definition = bind(name, pos)
        if definition.name in seen:
            raise malformed_query(f"duplicate field selected: {definition.name}")
        seen.add(definition.name)
        query.selected.append(definition.name)
    for item in query.order_by:
        definition = bind(item.field, item.pos)
        item.field = definition.name

    def walk(cond: Condition) -> None:
        if isinstance(cond, BoolOp):
            for part in cond.parts:
                walk(part)
            return
        cond.definition = bind(cond.field, cond.pos)
        for literal in cond.values:
            _check_literal(query, cond, cond.definition, literal)

    if query.where is not None:
        walk(query.where)
    if query.offset is not None and query.offset > 2000:
        raise SalesforceApiError.one(
            400, "NUMBER_OUTSIDE_VALID_RANGE", "Maximum SOQL offset allowed is 2000"
        )
    return query


def _check_literal(query: Query, cond: Comparison, definition: FieldDef, lit: Literal) -> None:
    kind = definition.type
    if lit.kind == "null":
        if cond.op not in ("=", "!=", "IN"):
            raise malformed_query(f"invalid operator on null for field {definition.name}")
        return
    ok = {
        "string": kind in TEXT_TYPES,
        "number": kind in NUMBER_TYPES,
        "boolean": kind == "boolean",
        "date": kind == "date",
        "datetime": kind == "datetime",
        "dateliteral": kind in ("date", "datetime"),
    }[lit.kind]
    if not ok:
        expected = {"datetime": "dateTime", "int": "integer"}.get(kind, kind)
        quoted = " and should not be enclosed in quotes" if lit.kind == "string" else ""
        raise _position_error(
            query,
            cond.pos,
            "INVALID_FIELD",
            f"value of filter criterion for field '{definition.name}' must be of type "
            f"{expected}{quoted}",
        )
    if cond.op == "LIKE" and kind not in TEXT_TYPES:
        raise malformed_query(f"invalid operator on field {definition.name}: LIKE")


# -- evaluation -------------------------------------------------------------------------------


def _day_range(literal: tuple[str, int], today: dt.date) -> tuple[dt.date, dt.date]:
    """Half-open ``[start, end)`` day range of a SOQL date literal."""
    name, n = literal
    one = dt.timedelta(days=1)
    if name == "TODAY":
        return today, today + one
    if name == "YESTERDAY":
        return today - one, today
    if name == "TOMORROW":
        return today + one, today + 2 * one
    if name == "LAST_N_DAYS":
        return today - n * one, today + one
    return today, today + (n + 1) * one  # NEXT_N_DAYS


def _typed(definition: FieldDef, value: Any) -> Any:
    """A record value as something comparable, per field type."""
    if value is None:
        return None
    if definition.type == "datetime":
        return parse_datetime(value)
    if definition.type == "date":
        return parse_date(value)
    if definition.type in ("id", "reference"):
        return normalize_id(value) or value
    if definition.type in TEXT_TYPES:
        return str(value).lower()
    return value


def _literal_value(definition: FieldDef, lit: Literal) -> Any:
    if lit.kind == "string" and definition.type in ("id", "reference"):
        return normalize_id(lit.value) or lit.value
    if lit.kind == "string":
        return lit.value.lower()
    if lit.kind == "date" and definition.type == "date":
        return lit.value
    return lit.value


def _like(pattern: str) -> re.Pattern[str]:
    regex = "".join(
        ".*" if ch == "%" else "." if ch == "_" else re.escape(ch) for ch in pattern.lower()
    )
    return re.compile(regex + r"\Z", re.DOTALL)


def _compare(op: str, left: Any, right: Any) -> bool:
    if op == "=":
        return bool(left == right)
    if op == "!=":
        return bool(left != right)
    if left is None or right is None:
        return False
    if op == "<":
        return bool(left < right)
    if op == "<=":
        return bool(left <= right)
    if op == ">":
        return bool(left > right)
    return bool(left >= right)


def _match_range(op: str, value: Any, start: Any, end: Any) -> bool:
    if value is None:
        return op == "!="
    inside = bool(start <= value < end)
    return {
        "=": inside,
        "!=": not inside,
        "<": bool(value < start),
        "<=": bool(value < end),
        ">": bool(value >= end),
        ">=": bool(value >= start),
    }[op]


def compile_condition(cond: Condition, now: dt.datetime) -> Callable[[Record], bool]:
    """A predicate over stored records for a resolved condition."""
    if isinstance(cond, BoolOp):
        parts = [compile_condition(p, now) for p in cond.parts]
        if cond.op == "AND":
            return lambda r: all(p(r) for p in parts)
        if cond.op == "OR":
            return lambda r: any(p(r) for p in parts)
        return lambda r: not parts[0](r)
    definition = cond.definition
    assert definition is not None
    name, op = definition.name, cond.op
    if op == "LIKE":
        regex = _like(cond.values[0].value)
        return lambda r: r.get(name) is not None and bool(regex.match(str(r[name]).lower()))
    if op == "IN":
        wanted = {_literal_value(definition, lit) for lit in cond.values}
        return lambda r: _typed(definition, r.get(name)) in wanted
    lit = cond.values[0]
    if lit.kind == "dateliteral":
        start, end = _day_range(lit.value, now.date())
        if definition.type == "datetime":
            lo = dt.datetime.combine(start, dt.time(), dt.UTC)
            hi = dt.datetime.combine(end, dt.time(), dt.UTC)
            return lambda r: _match_range(op, _typed(definition, r.get(name)), lo, hi)
        return lambda r: _match_range(op, _typed(definition, r.get(name)), start, end)
    right = _literal_value(definition, lit)
    return lambda r: _compare(op, _typed(definition, r.get(name)), right)


def sort_key(definition: FieldDef, descending: bool, nulls_last: bool) -> Callable[[Record], Any]:
    """Key for one ORDER BY item, to be used with ``sorted(..., reverse=descending)``."""
    # Under reverse=True the final order flips, so "nulls last" means "nulls rank lowest".
    nulls_high = nulls_last != descending

    def key(record: Record) -> tuple[int, Any]:
        value = _typed(definition, record.get(definition.name))
        if value is None:
            return (1 if nulls_high else 0, 0)
        return (0 if nulls_high else 1, value)

    return key
