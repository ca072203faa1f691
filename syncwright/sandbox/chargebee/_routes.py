"""The Chargebee API v2 operations the sandbox serves, as ``(method, path pattern, handler)``.

Responses wrap each resource under its name (``{"customer": {...}}``); lists are
``{"list": [{"customer": {...}}, ...], "next_offset": "..."}`` with ``limit`` (1-100, default
10) and an opaque ``offset``; filters are ``field[operator]=value``.
https://apidocs.chargebee.com/docs/api#pagination_and_filtering
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from . import _forms as forms
from ._objects import JSON, wrong_value
from ._state import ChargebeeState

Handler = Callable[[ChargebeeState, dict[str, str], JSON], JSON]
MAX_LIMIT = 100
DEFAULT_LIMIT = 10


@dataclass(frozen=True)
class Route:
    method: str
    pattern: re.Pattern[str]
    handler: Handler

    def match(self, method: str, path: str) -> dict[str, str] | None:
        if method != self.method:
            return None
        found = self.pattern.fullmatch(path.rstrip("/"))
        return found.groupdict() if found else None


def _matches(value: Any, op: str, wanted: str) -> bool:
    if op == "is":
        return str(value) == wanted
    if op == "is_not":
        return str(value) != wanted
    if op == "in":
        return str(value) in forms.as_list(wanted)
    if op == "not_in":
        return str(value) not in forms.as_list(wanted)
    if op in ("after", "before", "on"):
        if value is None:
            return False
        number, have = int(wanted), int(value)
        return {"after": have > number, "before": have < number, "on": have == number}[op]
    raise wrong_value(op, f"{op} : filter operator not supported")


def _page(
    name: str,
    rows: Iterable[JSON],
    params: JSON,
    filters: tuple[str, ...],
    sort: str | None,
    beside: Callable[[JSON], JSON] | None = None,
) -> JSON:
    """Filter, sort and page ``rows``; each listed under ``name`` (with ``beside(row)``: the
    resources Chargebee lists next to it, e.g. a subscription's customer)."""
    found = list(rows)
    for field in filters:
        condition = params.get(field)
        if isinstance(condition, dict):
            for op, wanted in condition.items():
                found = [r for r in found if _matches(r.get(field), op, wanted)]
    order = params.get("sort_by")
    if sort is not None:
        # Chargebee lists newest first unless sort_by[asc] says otherwise.
        descending = not (isinstance(order, dict) and order.get("asc") == sort)
        found.sort(key=lambda r: r.get(sort) or 0, reverse=descending)
    limit = forms.integer(params, "limit", DEFAULT_LIMIT) or DEFAULT_LIMIT
    if not 1 <= limit <= MAX_LIMIT:
        raise wrong_value("limit", f"limit : must be between 1 and {MAX_LIMIT}")
    start = _offset(params.get("offset"))
    page = found[start : start + limit]
    body: JSON = {"list": [{name: row, **(beside(row) if beside else {})} for row in page]}
    if start + limit < len(found):
        body["next_offset"] = f'["{start + limit}"]'
    return body


def _offset(raw: Any) -> int:
    if raw in (None, ""):
        return 0
    digits = str(raw).strip('[]"')
    if not digits.isdigit():
        raise wrong_value("offset", "offset : invalid value")
    return int(digits)


def _visible(rows: dict[str, JSON]) -> list[JSON]:
    return [r for r in rows.values() if not r.get("deleted")]


def _customer(s: ChargebeeState, m: dict[str, str], p: JSON) -> JSON:
    return {"customer": s.customer(m["id"])}


def _subscription(s: ChargebeeState, m: dict[str, str], p: JSON) -> JSON:
    sub = s.subscription(m["id"])
    return {"subscription": sub, "customer": s.customers[sub["customer_id"]]}


def _record_payment(s: ChargebeeState, m: dict[str, str], p: JSON) -> JSON:
    invoice, txn = s.record_payment(m["id"], p)
    return {"invoice": invoice, "transaction": txn}


def _collect_payment(s: ChargebeeState, m: dict[str, str], p: JSON) -> JSON:
    invoice, txn = s.collect_payment(m["id"])
    return {"invoice": invoice, "transaction": txn}


def _r(method: str, path: str, handler: Handler) -> Route:
    pattern = re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", path)
    return Route(method, re.compile(pattern), handler)


ROUTES: tuple[Route, ...] = (
    # https://apidocs.chargebee.com/docs/api/customers
    _r("POST", "customers", lambda s, m, p: {"customer": s.create_customer(p)}),
    _r(
        "GET",
        "customers",
        lambda s, m, p: _page(
            "customer", _visible(s.customers), p, ("id", "email", "company"), "created_at"
        ),
    ),
    _r("GET", "customers/{id}", _customer),
    _r("POST", "customers/{id}", lambda s, m, p: {"customer": s.update_customer(m["id"], p)}),
    # https://apidocs.chargebee.com/docs/api/items, .../item_prices
    _r("POST", "items", lambda s, m, p: {"item": s.create_item(p)}),
    _r("POST", "item_prices", lambda s, m, p: {"item_price": s.create_item_price(p)}),
    _r("GET", "item_prices/{id}", lambda s, m, p: {"item_price": s.item_price(m["id"])}),
    # https://apidocs.chargebee.com/docs/api/subscriptions
    _r(
        "POST",
        "customers/{id}/subscription_for_items",
        lambda s, m, p: s.create_subscription(m["id"], p),
    ),
    _r(
        "GET",
        "subscriptions",
        lambda s, m, p: _page(
            "subscription",
            _visible(s.subscriptions),
            p,
            ("id", "customer_id", "status"),
            "created_at",
            lambda row: {"customer": s.customers[row["customer_id"]]},
        ),
    ),
    _r("GET", "subscriptions/{id}", _subscription),
    _r(
        "POST",
        "subscriptions/{id}/update_for_items",
        lambda s, m, p: s.update_subscription(m["id"], p),
    ),
    _r(
        "POST",
        "subscriptions/{id}/cancel_for_items",
        lambda s, m, p: s.cancel_subscription(m["id"], p),
    ),
    # https://apidocs.chargebee.com/docs/api/invoices
    _r(
        "GET",
        "invoices",
        lambda s, m, p: _page(
            "invoice",
            _visible(s.invoices),
            p,
            ("id", "customer_id", "subscription_id", "status"),
            "date",
        ),
    ),
    _r("GET", "invoices/{id}", lambda s, m, p: {"invoice": s.invoice(m["id"])}),
    _r("POST", "invoices/{id}/record_payment", _record_payment),
    _r("POST", "invoices/{id}/collect_payment", _collect_payment),
    # https://apidocs.chargebee.com/docs/api/credit_notes
    _r("POST", "credit_notes", lambda s, m, p: {"credit_note": s.create_credit_note(p)}),
    _r(
        "GET",
        "credit_notes",
        lambda s, m, p: _page(
            "credit_note",
            _visible(s.credit_notes),
            p,
            ("id", "customer_id", "subscription_id", "reference_invoice_id"),
            "date",
        ),
    ),
    _r("GET", "credit_notes/{id}", lambda s, m, p: {"credit_note": s.credit_note(m["id"])}),
    # https://apidocs.chargebee.com/docs/api/transactions
    _r(
        "GET",
        "transactions",
        lambda s, m, p: _page(
            "transaction",
            _visible(s.transactions),
            p,
            ("id", "customer_id", "subscription_id"),
            "date",
        ),
    ),
    _r("GET", "transactions/{id}", lambda s, m, p: {"transaction": s.transaction(m["id"])}),
    # https://apidocs.chargebee.com/docs/api/webhook_endpoints
    _r(
        "POST",
        "webhook_endpoints",
        lambda s, m, p: {"webhook_endpoint": s.create_webhook_endpoint(p)},
    ),
    _r(
        "GET",
        "webhook_endpoints",
        lambda s, m, p: _page("webhook_endpoint", s.webhook_endpoint_list(), p, ("id",), None),
    ),
    # https://apidocs.chargebee.com/docs/api/events -- filters: id, event_type, occurred_at,
    # source, webhook_status; sort_by[asc|desc]=occurred_at.
    _r(
        "GET",
        "events",
        lambda s, m, p: _page(
            "event",
            s.events if _ascending(p) else reversed(s.events),
            p,
            ("id", "event_type", "occurred_at", "source", "webhook_status"),
            None,
        ),
    ),
    _r("GET", "events/{id}", lambda s, m, p: {"event": s.event(m["id"])}),
)


def _ascending(params: JSON) -> bool:
    """Events are recorded oldest first, so record order is ``occurred_at`` order, and stable
    within a second (which a sort on ``occurred_at`` alone would not promise). Chargebee lists
    newest first unless ``sort_by[asc]=occurred_at``."""
    order = params.get("sort_by")
    return isinstance(order, dict) and order.get("asc") == "occurred_at"
