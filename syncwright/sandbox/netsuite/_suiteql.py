"""A useful subset of SuiteQL over the sandbox records.

Supported: ``SELECT * | col [AS alias], ... FROM table [alias] [WHERE ...] [ORDER BY col
[ASC|DESC], ...]`` on one table, with ``=``, ``<>``/``!=``, ``<``, ``<=``, ``>``, ``>=``,
``[NOT] IN (...)``, ``[NOT] LIKE`` (``%``/``_``, case-sensitive as in Oracle), ``IS [NOT] NULL``,
``AND``, ``OR``, ``NOT``, parentheses, ``UPPER()``/``LOWER()`` and the date functions
``TO_CHAR(date, 'format')``, ``TO_DATE('text', 'format')`` and ``TO_TIMESTAMP('text', 'format')``,
also as selected columns. No joins or aggregates. Date columns answer as a real account does
(the date alone, in the account's date format: ``_suiteql_dates``).

Tables follow the analytics data source: ``customer``, ``subsidiary``, ``currency``, ``term``,
``department``, ``classification``, ``location``, ``accountingperiod``,
``salestaxitem``, ``item`` (every item type), ``transaction`` (``type`` = ``SalesOrd``,
``CustInvc``, ``CustPymt``, ``CustCred``, ``CustRfnd``) and ``transactionline``. Values come
back as strings, booleans as ``T``/``F``, references as the internal id, and empty columns are
left out.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from syncwright.sandbox.netsuite import _suiteql_dates as dates
from syncwright.sandbox.netsuite._errors import NetSuiteApiError
from syncwright.sandbox.netsuite._rules import Lookup
from syncwright.sandbox.netsuite._suiteql_tables import TABLES, Row

Predicate = Callable[[Row], bool]


@dataclass(frozen=True)
class Operand:
    """A value of each row; ``date``: an internal date text (see ``_suiteql_dates``)."""

    value: Callable[[Row], str | None]
    date: bool = False
    constant: bool = False


def _const(value: str | None, *, date: bool = False) -> Operand:
    return Operand(lambda row: value, date=date, constant=True)


__all__ = ["Query", "parse", "run"]


def query_error(message: str) -> NetSuiteApiError:
    return NetSuiteApiError(
        400,
        "INVALID_PARAMETER",
        "Invalid search query. Detailed unprocessed description follows. "
        f"Search error occurred: {message}",
        path="q",
    )


# -- parsing --------------------------------------------------------------------------------

_TOKEN = re.compile(
    r"""\s*(?:
        (?P<num>-?\d+(?:\.\d+)?)
      | (?P<str>'(?:[^']|'')*')
      | (?P<op><>|!=|<=|>=|=|<|>|\(|\)|,|\*|;)
      | (?P<id>[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)?)
    )""",
    re.VERBOSE,
)
_KEYWORDS = {
    "select",
    "from",
    "where",
    "and",
    "or",
    "not",
    "in",
    "like",
    "is",
    "null",
    "order",
    "by",
    "asc",
    "desc",
    "as",
    "distinct",
}


@dataclass(frozen=True)
class Token:
    kind: str
    text: str

    @property
    def keyword(self) -> str | None:
        lowered = self.text.lower()
        return lowered if self.kind == "id" and lowered in _KEYWORDS else None


def tokenize(text: str) -> list[Token]:
    tokens: list[Token] = []
    pos = 0
    text = text.rstrip()
    while pos < len(text):
        match = _TOKEN.match(text, pos)
        if match is None or match.end() == pos:
            raise query_error(f"Unexpected character at position {pos}.")
        kind = match.lastgroup or ""
        tokens.append(Token(kind, match.group(kind)))
        pos = match.end()
    return tokens


@dataclass
class Query:
    table: str
    columns: list[tuple[Operand, str]] | None  # (value, output name); None for *
    where: Predicate | None
    order: list[tuple[Operand, bool]]  # (value, descending)
    distinct: bool = False


class _Parser:
    def __init__(self, tokens: list[Token]) -> None:
        self.tokens = tokens
        self.pos = 0
        self.table = ""
        self.alias = ""
        self.columns: frozenset[str] = frozenset()
        self.dates: frozenset[str] = frozenset()

    def peek(self) -> Token | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def take(self) -> Token:
        token = self.peek()
        if token is None:
            raise query_error("Unexpected end of query.")
        self.pos += 1
        return token

    def at_keyword(self, *words: str) -> bool:
        token = self.peek()
        return token is not None and token.keyword in words

    def expect_keyword(self, word: str) -> None:
        token = self.take()
        if token.keyword != word:
            raise query_error(f"Expected {word.upper()} but found '{token.text}'.")

    def expect_op(self, op: str) -> None:
        token = self.take()
        if token.kind != "op" or token.text != op:
            raise query_error(f"Expected '{op}' but found '{token.text}'.")

    def column(self, name: str) -> str:
        lowered = name.lower()
        if "." in lowered:
            qualifier, lowered = lowered.split(".", 1)
            if qualifier not in (self.table, self.alias):
                raise query_error(f"Unknown table alias '{qualifier}'.")
        if lowered not in self.columns:
            raise query_error(f"Field '{lowered}' for record '{self.table}' was not found.")
        return lowered

    def parse(self) -> Query:
        self.expect_keyword("select")
        distinct = False
        if self.at_keyword("distinct"):
            self.take()
            distinct = True
        star = self.peek() == Token("op", "*")
        if star:
            self.take()
        else:
            select_start = self.pos
            self.skip_select_list()
        self.expect_keyword("from")
        table_token = self.take()
        self.table = table_token.text.lower()
        if self.table not in TABLES:
            raise query_error(f"Record '{table_token.text}' was not found.")
        self.columns = TABLES[self.table].columns
        self.dates = TABLES[self.table].dates
        if self.at_keyword("as"):
            self.take()
        alias = self.peek()
        if alias is not None and alias.kind == "id" and not alias.keyword:
            if "." in alias.text:
                raise query_error(f"Invalid table alias '{alias.text}'.")
            self.alias = self.take().text.lower()
        after_from = self.pos
        columns = None
        if not star:
            self.pos = select_start
            columns = self.select_list()
            self.pos = after_from
        where = None
        if self.at_keyword("where"):
            self.take()
            where = self.or_expr()
        order: list[tuple[Operand, bool]] = []
        if self.at_keyword("order"):
            self.take()
            self.expect_keyword("by")
            aliases = {out: value for value, out in columns or []}
            while True:
                token = self.peek()
                if token is not None and token.kind == "id" and token.text.lower() in aliases:
                    self.take()
                    value = aliases[token.text.lower()]
                else:
                    value = self.operand()
                descending = False
                if self.at_keyword("asc", "desc"):
                    descending = self.take().keyword == "desc"
                order.append((value, descending))
                if self.peek() == Token("op", ","):
                    self.take()
                    continue
                break
        if self.peek() == Token("op", ";"):
            self.take()
        if self.peek() is not None:
            raise query_error(f"Unexpected '{self.take().text}'.")
        return Query(self.table, columns, where, order, distinct)

    def skip_select_list(self) -> None:
        """Past the select list (read again once FROM has named the table's columns)."""
        depth = 0
        while not (depth == 0 and self.at_keyword("from")):
            token = self.take()
            if token == Token("op", "("):
                depth += 1
            elif token == Token("op", ")"):
                depth -= 1

    def select_list(self) -> list[tuple[Operand, str]]:
        columns: list[tuple[Operand, str]] = []
        unnamed = 0  # NetSuite names an expression without an alias expr1, expr2, ...
        while True:
            first = self.peek()
            if first is None or first.keyword:
                raise query_error(f"Expected a column but found '{first.text if first else ''}'.")
            value = self.operand()
            plain = self.tokens[self.pos - 1] is first and first.kind == "id"
            following = self.peek()
            if self.at_keyword("as"):
                self.take()
                output = self.take().text.lower()
            elif following is not None and following.kind == "id" and not following.keyword:
                output = self.take().text.lower()
            elif plain:
                output = first.text.split(".")[-1].lower()
            else:
                unnamed += 1
                output = f"expr{unnamed}"
            columns.append((value, output))
            if self.peek() == Token("op", ","):
                self.take()
                continue
            return columns

    def or_expr(self) -> Predicate:
        parts = [self.and_expr()]
        while self.at_keyword("or"):
            self.take()
            parts.append(self.and_expr())
        return parts[0] if len(parts) == 1 else (lambda row: any(p(row) for p in parts))

    def and_expr(self) -> Predicate:
        parts = [self.not_expr()]
        while self.at_keyword("and"):
            self.take()
            parts.append(self.not_expr())
        return parts[0] if len(parts) == 1 else (lambda row: all(p(row) for p in parts))

    def not_expr(self) -> Predicate:
        if self.at_keyword("not"):
            self.take()
            inner = self.not_expr()
            return lambda row: not inner(row)
        return self.predicate()

    def predicate(self) -> Predicate:
        if self.peek() == Token("op", "("):
            self.take()
            inner = self.or_expr()
            self.expect_op(")")
            return inner
        left = self.operand()
        negate = False
        if self.at_keyword("not"):
            self.take()
            negate = True
            if not self.at_keyword("in", "like"):
                raise query_error("Expected IN or LIKE after NOT.")
        if self.at_keyword("in"):
            self.take()
            self.expect_op("(")
            values = [self.literal()]
            while self.peek() == Token("op", ","):
                self.take()
                values.append(self.literal())
            self.expect_op(")")
            if left.date:
                values = [_as_date(_const(v)).value({}) for v in values]
            return _negated(
                lambda row: any(_compare(left.value(row), v) == 0 for v in values), negate
            )
        if self.at_keyword("like"):
            self.take()
            pattern = _like_regex(self.literal() or "")
            shown = _shown(left)
            return _negated(
                lambda row: (value := shown(row)) is not None and bool(pattern.fullmatch(value)),
                negate,
            )
        if self.at_keyword("is"):
            self.take()
            is_not = False
            if self.at_keyword("not"):
                self.take()
                is_not = True
            self.expect_keyword("null")
            return lambda row: (left.value(row) is None) != is_not
        token = self.take()
        if token.kind != "op" or token.text not in ("=", "<>", "!=", "<", "<=", ">", ">="):
            raise query_error(f"Expected a comparison but found '{token.text}'.")
        right = self.operand()
        if left.date != right.date:  # Oracle converts the text by the account's date format
            left, right = _as_date(left), _as_date(right)
        test = _COMPARISONS[token.text]

        def compare(row: Row) -> bool:
            result = _compare(left.value(row), right.value(row))
            return result is not None and test(result)

        return compare

    def literal(self) -> str | None:
        token = self.take()
        if token.kind == "str":
            return token.text[1:-1].replace("''", "'")
        if token.kind == "num":
            return token.text
        if token.keyword == "null":
            return None
        raise query_error(f"Expected a value but found '{token.text}'.")

    def format_argument(self) -> str:
        self.expect_op(",")
        token = self.take()
        if token.kind != "str":
            raise query_error(f"Expected a format text but found '{token.text}'.")
        self.expect_op(")")
        return token.text[1:-1]

    def function(self, name: str) -> Operand:
        self.expect_op("(")
        inner = self.operand()
        if name in ("upper", "lower"):
            self.expect_op(")")
            change = str.upper if name == "upper" else str.lower
            shown = _shown(inner)
            return Operand(lambda row: None if (v := shown(row)) is None else change(v))
        oracle_format = self.format_argument()
        if name == "to_char":
            if not inner.date:
                return inner  # TO_CHAR of a text or number: the value itself
            _check_format(oracle_format)
            return Operand(lambda row: dates.to_char(inner.value(row), oracle_format))
        if inner.date:
            raise query_error(f"{name.upper()} takes a text, not a date.")
        if inner.constant:
            return _const(_date_call(dates.to_date, inner.value({}), oracle_format), date=True)
        return Operand(
            lambda row: _date_call(dates.to_date, inner.value(row), oracle_format), date=True
        )

    def operand(self) -> Operand:
        token = self.peek()
        if token is None:
            raise query_error("Unexpected end of query.")
        if token.kind in ("str", "num"):
            return _const(self.literal())
        if token.keyword == "null":
            self.take()
            return _const(None)
        if token.kind == "id" and token.text.lower() in _FUNCTIONS:
            self.take()
            return self.function(token.text.lower())
        if token.kind == "id" and not token.keyword:
            name = self.column(self.take().text)
            return Operand(lambda row: row.get(name), date=name in self.dates)
        raise query_error(f"Unexpected '{token.text}'.")


_FUNCTIONS = ("upper", "lower", "to_char", "to_date", "to_timestamp")


def _date_call(fn: Callable[[str | None, str], str | None], text: str | None, fmt: str) -> Any:
    try:
        return fn(text, fmt)
    except dates.DateFormatError as exc:
        raise query_error(str(exc)) from exc


def _check_format(oracle_format: str) -> None:
    _date_call(dates.to_char, "2000-01-01 00:00:00", oracle_format)


def _as_date(operand: Operand) -> Operand:
    """A text operand compared with a date, read by the account's date format."""
    if operand.date:
        return operand
    if operand.constant:
        return _const(_date_call(lambda t, _f: dates.implicit(t), operand.value({}), ""), date=True)
    return Operand(
        lambda row: _date_call(lambda t, _f: dates.implicit(t), operand.value(row), ""), date=True
    )


def _shown(operand: Operand) -> Callable[[Row], str | None]:
    """The value as the account shows it (a date in its date format)."""
    if operand.date:
        return lambda row: dates.display(operand.value(row))
    return operand.value


_COMPARISONS: dict[str, Callable[[int], bool]] = {
    "=": lambda c: c == 0,
    "<>": lambda c: c != 0,
    "!=": lambda c: c != 0,
    "<": lambda c: c < 0,
    "<=": lambda c: c <= 0,
    ">": lambda c: c > 0,
    ">=": lambda c: c >= 0,
}


def _negated(predicate: Predicate, negate: bool) -> Predicate:
    return (lambda row: not predicate(row)) if negate else predicate


def _number(value: str) -> Decimal | None:
    try:
        return Decimal(value)
    except InvalidOperation:
        return None


def _compare(left: str | None, right: str | None) -> int | None:
    """-1/0/1, numerically when both sides are numbers; None when either side is NULL."""
    if left is None or right is None:
        return None
    a, b = _number(left), _number(right)
    if a is not None and b is not None:
        return (a > b) - (a < b)
    return (left > right) - (left < right)


def _like_regex(pattern: str) -> re.Pattern[str]:
    parts = ["." if ch == "_" else ".*" if ch == "%" else re.escape(ch) for ch in pattern]
    return re.compile("".join(parts), re.DOTALL)


def parse(text: str) -> Query:
    if not isinstance(text, str) or not text.strip():
        raise query_error("The query is empty.")
    return _Parser(tokenize(text)).parse()


def _sort_key(value: str | None) -> tuple[int, Decimal, str]:
    if value is None:
        return (2, Decimal(0), "")
    number = _number(value)
    return (0, number, "") if number is not None else (1, Decimal(0), value)


def run(db: Lookup, text: str) -> list[dict[str, str]]:
    """All result rows of one query (paging is the caller's), nulls left out."""
    query = parse(text)
    table = TABLES[query.table]
    rows = list(table.rows(db))
    if query.where is not None:
        rows = [row for row in rows if query.where(row)]
    for value, descending in reversed(query.order):
        keyed = [(value.value(r), r) for r in rows]
        present = [(v, r) for v, r in keyed if v is not None]
        missing = [r for v, r in keyed if v is None]
        present.sort(key=lambda pair: _sort_key(pair[0]), reverse=descending)
        rows = [r for _v, r in present] + missing
    out: list[dict[str, str]] = []
    seen: set[tuple[tuple[str, str], ...]] = set()
    for row in rows:
        picked: dict[str, str]
        if query.columns is None:
            picked = {
                k: (dates.display(v) or "") if k in table.dates else v
                for k, v in row.items()
                if v is not None
            }
        else:
            picked = {
                out_name: shown
                for value, out_name in query.columns
                if (shown := _shown(value)(row)) is not None
            }
        if query.distinct:
            key = tuple(sorted(picked.items()))
            if key in seen:
                continue
            seen.add(key)
        out.append(picked)
    return out
