"""A useful subset of SuiteQL over the sandbox records.

Supported: ``SELECT * | col [AS alias], ... FROM table [alias] [WHERE ...] [ORDER BY col
[ASC|DESC], ...]`` on one table, with ``=``, ``<>``/``!=``, ``<``, ``<=``, ``>``, ``>=``,
``[NOT] IN (...)``, ``[NOT] LIKE`` (``%``/``_``, case-sensitive as in Oracle), ``IS [NOT] NULL``,
``AND``, ``OR``, ``NOT``, parentheses and ``UPPER()``/``LOWER()``. No joins or aggregates.

Tables follow the analytics data source: ``customer``, ``subsidiary``, ``currency``, ``term``,
``accountingperiod``,
``salestaxitem``, ``item`` (every item type), ``transaction`` (``type`` = ``SalesOrd``,
``CustInvc``, ``CustPymt``, ``CustCred``, ``CustRfnd``) and ``transactionline``. Values come
back as strings, booleans as ``T``/``F``, references as the internal id, and empty columns are
left out.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from syncwright.sandbox.netsuite._errors import NetSuiteApiError
from syncwright.sandbox.netsuite._rules import Lookup
from syncwright.sandbox.netsuite._schema import ITEM_TYPES, RECORD_TYPES, RecordType

Row = dict[str, str | None]
Operand = Callable[[Row], str | None]
Predicate = Callable[[Row], bool]

__all__ = ["Query", "parse", "run"]


def query_error(message: str) -> NetSuiteApiError:
    return NetSuiteApiError(
        400,
        "INVALID_PARAMETER",
        "Invalid search query. Detailed unprocessed description follows. "
        f"Search error occurred: {message}",
        path="q",
    )


# -- rows -----------------------------------------------------------------------------------


def sql_value(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "T" if value else "F"
    if isinstance(value, Decimal):
        return format(value, "f")
    return str(value)


def _flatten(rt: RecordType, rec: dict[str, Any]) -> Row:
    sublists = {sub.name for sub in rt.sublists}
    return {
        key.lower(): sql_value(value)
        for key, value in rec.items()
        if key not in sublists and not isinstance(value, dict | list)
    }


def _columns(rt: RecordType) -> set[str]:
    return {"id"} | {f.name.lower() for f in rt.fields}


TRANSACTION_TYPES = ("salesOrder", "invoice", "customerPayment", "creditMemo", "customerRefund")


def _transaction_row(rt: RecordType, rec: dict[str, Any]) -> Row:
    row = _flatten(rt, rec)
    row["type"] = rt.suiteql_type
    row["recordtype"] = rt.name.lower()
    row["foreigntotal"] = row.get("total")
    row["foreignamountunpaid"] = row.get("amountremaining")
    row["foreignamountpaid"] = row.get("amountpaid")
    if "customer" in row:
        row["entity"] = row.pop("customer")
    return row


def _line_rows(rt: RecordType, rec: dict[str, Any]) -> list[Row]:
    rows = []
    for line in rec.get("item") or []:
        rows.append(
            {
                "id": sql_value(line.get("line")),
                "transaction": rec["id"],
                "linesequencenumber": sql_value(line.get("line")),
                "item": sql_value(line.get("item")),
                "quantity": sql_value(line.get("quantity")),
                "rate": sql_value(line.get("rate")),
                "netamount": sql_value(line.get("amount")),
                "foreignamount": sql_value(line.get("amount")),
                "taxcode": sql_value(line.get("taxCode")),
                "memo": sql_value(line.get("description")),
                "isclosed": sql_value(line.get("isClosed", False)),
            }
        )
    return rows


@dataclass(frozen=True)
class Table:
    columns: frozenset[str]
    rows: Callable[[Lookup], Iterable[Row]]


def _simple(rtype: str) -> Table:
    rt = RECORD_TYPES[rtype]
    return Table(
        frozenset(_columns(rt)),
        lambda db: [_flatten(rt, rec) for rec in db.raw_all(rtype)],
    )


def _items(db: Lookup) -> list[Row]:
    return [_flatten(RECORD_TYPES[t], rec) for t in ITEM_TYPES for rec in db.raw_all(t)]


def _transactions(db: Lookup) -> list[Row]:
    return [
        _transaction_row(RECORD_TYPES[t], rec) for t in TRANSACTION_TYPES for rec in db.raw_all(t)
    ]


def _lines(db: Lookup) -> list[Row]:
    return [
        row
        for t in TRANSACTION_TYPES
        for rec in db.raw_all(t)
        for row in _line_rows(RECORD_TYPES[t], rec)
    ]


_TRAN_COLUMNS = frozenset(
    set().union(*(_columns(RECORD_TYPES[t]) for t in TRANSACTION_TYPES))
    | {"type", "recordtype", "foreigntotal", "foreignamountunpaid", "foreignamountpaid"}
)
TABLES: dict[str, Table] = {
    "customer": _simple("customer"),
    "subsidiary": _simple("subsidiary"),
    "currency": _simple("currency"),
    "term": _simple("term"),
    "accountingperiod": _simple("accountingPeriod"),
    "salestaxitem": _simple("salesTaxItem"),
    "item": Table(frozenset(_columns(RECORD_TYPES["serviceSaleItem"])), _items),
    "transaction": Table(_TRAN_COLUMNS, _transactions),
    "transactionline": Table(
        frozenset(
            {
                "id",
                "transaction",
                "linesequencenumber",
                "item",
                "quantity",
                "rate",
                "netamount",
                "foreignamount",
                "taxcode",
                "memo",
                "isclosed",
            }
        ),
        _lines,
    ),
}


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
    columns: list[tuple[str, str]] | None  # (source column, output name); None for *
    where: Predicate | None
    order: list[tuple[str, bool]]  # (column, descending)
    distinct: bool = False


class _Parser:
    def __init__(self, tokens: list[Token]) -> None:
        self.tokens = tokens
        self.pos = 0
        self.table = ""
        self.alias = ""
        self.columns: frozenset[str] = frozenset()

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
        raw_columns: list[tuple[str, str]] | None = None
        if self.peek() == Token("op", "*"):
            self.take()
        else:
            raw_columns = []
            while True:
                token = self.take()
                if token.kind != "id" or token.keyword:
                    raise query_error(f"Expected a column but found '{token.text}'.")
                output = token.text.split(".")[-1].lower()
                following = self.peek()
                if self.at_keyword("as"):
                    self.take()
                    output = self.take().text.lower()
                elif following is not None and following.kind == "id" and not following.keyword:
                    output = self.take().text.lower()
                raw_columns.append((token.text, output))
                if self.peek() == Token("op", ","):
                    self.take()
                    continue
                break
        self.expect_keyword("from")
        table_token = self.take()
        self.table = table_token.text.lower()
        if self.table not in TABLES:
            raise query_error(f"Record '{table_token.text}' was not found.")
        self.columns = TABLES[self.table].columns
        if self.at_keyword("as"):
            self.take()
        alias = self.peek()
        if alias is not None and alias.kind == "id" and not alias.keyword:
            if "." in alias.text:
                raise query_error(f"Invalid table alias '{alias.text}'.")
            self.alias = self.take().text.lower()
        columns = (
            None if raw_columns is None else [(self.column(src), out) for src, out in raw_columns]
        )
        where = None
        if self.at_keyword("where"):
            self.take()
            where = self.or_expr()
        order: list[tuple[str, bool]] = []
        if self.at_keyword("order"):
            self.take()
            self.expect_keyword("by")
            aliases = {out: src for src, out in columns or []}
            while True:
                text = self.take().text
                name = aliases.get(text.lower()) or self.column(text)
                descending = False
                if self.at_keyword("asc", "desc"):
                    descending = self.take().keyword == "desc"
                order.append((name, descending))
                if self.peek() == Token("op", ","):
                    self.take()
                    continue
                break
        if self.peek() == Token("op", ";"):
            self.take()
        if self.peek() is not None:
            raise query_error(f"Unexpected '{self.take().text}'.")
        return Query(self.table, columns, where, order, distinct)

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
            return _negated(lambda row: any(_compare(left(row), v) == 0 for v in values), negate)
        if self.at_keyword("like"):
            self.take()
            pattern = _like_regex(self.literal() or "")
            return _negated(
                lambda row: (value := left(row)) is not None and bool(pattern.fullmatch(value)),
                negate,
            )
        if self.at_keyword("is"):
            self.take()
            is_not = False
            if self.at_keyword("not"):
                self.take()
                is_not = True
            self.expect_keyword("null")
            return lambda row: (left(row) is None) != is_not
        token = self.take()
        if token.kind != "op" or token.text not in ("=", "<>", "!=", "<", "<=", ">", ">="):
            raise query_error(f"Expected a comparison but found '{token.text}'.")
        right = self.operand()
        test = _COMPARISONS[token.text]

        def compare(row: Row) -> bool:
            result = _compare(left(row), right(row))
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

    def operand(self) -> Operand:
        token = self.peek()
        if token is None:
            raise query_error("Unexpected end of query.")
        if token.kind in ("str", "num"):
            value = self.literal()
            return lambda row: value
        if token.kind == "id" and token.text.lower() in ("upper", "lower"):
            self.take()
            self.expect_op("(")
            inner = self.operand()
            self.expect_op(")")
            if token.text.lower() == "upper":
                return lambda row: None if (v := inner(row)) is None else v.upper()
            return lambda row: None if (v := inner(row)) is None else v.lower()
        if token.kind == "id" and not token.keyword:
            name = self.column(self.take().text)
            return lambda row: row.get(name)
        raise query_error(f"Unexpected '{token.text}'.")


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
    rows = list(TABLES[query.table].rows(db))
    if query.where is not None:
        rows = [row for row in rows if query.where(row)]
    for column, descending in reversed(query.order):
        present = [r for r in rows if r.get(column) is not None]
        missing = [r for r in rows if r.get(column) is None]
        present.sort(key=lambda r: _sort_key(r.get(column)), reverse=descending)
        rows = present + missing
    out: list[dict[str, str]] = []
    seen: set[tuple[tuple[str, str], ...]] = set()
    for row in rows:
        if query.columns is None:
            picked = {k: v for k, v in row.items() if v is not None}
        else:
            picked = {
                out_name: v for src, out_name in query.columns if (v := row.get(src)) is not None
            }
        if query.distinct:
            key = tuple(sorted(picked.items()))
            if key in seen:
                continue
            seen.add(key)
        out.append(picked)
    return out
