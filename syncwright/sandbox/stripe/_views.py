"""How objects leave the emulator: ``expand[]`` and cursor pagination of list endpoints.

- Expansion (https://docs.stripe.com/expand): a dotted path replaces an id with the object;
  ``data.`` walks into a list's elements; at most four levels deep. ``invoice.payments`` is an
  "includable" list that only appears when expanded.
- Pagination (https://docs.stripe.com/api/pagination): newest first; ``limit`` 1-100 (default
  10); ``starting_after`` / ``ending_before`` take an object id as the cursor; ``has_more``.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

from . import _objects as ob
from ._errors import StripeAPIError, invalid_param, resource_missing
from ._forms import Params
from ._state import StripeState

MAX_EXPAND_DEPTH = 4

# Fields that hold an expandable id, by the object they sit on (Stripe's API reference marks
# these "Expandable").
EXPANDABLE: dict[str, frozenset[str]] = {
    "customer": frozenset({"test_clock", "default_source"}),
    "product": frozenset({"default_price"}),
    "price": frozenset({"product"}),
    "plan": frozenset({"product"}),
    "subscription": frozenset(
        {"customer", "latest_invoice", "default_payment_method", "test_clock", "schedule"}
    ),
    "subscription_item": frozenset(),
    "invoice": frozenset(
        {"customer", "default_payment_method", "test_clock", "subscription", "latest_revision"}
    ),
    "invoiceitem": frozenset({"customer", "invoice", "test_clock"}),
    "line_item": frozenset({"subscription"}),
    "payment_intent": frozenset({"customer", "payment_method", "latest_charge"}),
    "credit_note": frozenset({"customer", "invoice"}),
    "invoice_payment": frozenset({"invoice"}),
    "charge": frozenset({"customer", "payment_intent", "payment_method"}),
    "refund": frozenset({"charge", "payment_intent"}),
    "payment_method": frozenset({"customer"}),
    "_nested": frozenset(
        {"subscription", "invoice", "price", "product", "payment_intent", "default_payment_method"}
    ),
}


def expand(st: StripeState, obj: dict[str, Any], paths: list[str]) -> dict[str, Any]:
    out = copy.deepcopy(obj)
    for path in paths:
        segments = path.split(".")
        if len(segments) > MAX_EXPAND_DEPTH:
            raise invalid_param(
                f"You cannot expand more than {MAX_EXPAND_DEPTH} levels of a property. "
                f"Property: {path}",
                "expand",
            )
        _walk(st, out, segments, path)
    return out


def _cannot(path: str) -> StripeAPIError:
    return invalid_param(f"This property cannot be expanded ({path}).", "expand")


def _walk(st: StripeState, node: dict[str, Any], segments: list[str], path: str) -> None:
    key, rest = segments[0], segments[1:]
    if node.get("object") == "list":
        if key != "data":
            raise _cannot(path)
        for element in node["data"]:
            if rest and isinstance(element, dict):
                _walk(st, element, rest, path)
        return
    kind = str(node.get("object", "_nested"))
    if key == "payments" and kind == "invoice":
        node["payments"] = ob.list_object(
            copy.deepcopy(st.invoice_payments.get(node["id"], [])),
            f"/v1/invoices/{node['id']}/payments",
        )
        value: Any = node["payments"]
    elif key not in node:
        raise _cannot(path)
    else:
        value = node[key]
        if isinstance(value, str):
            allowed = EXPANDABLE.get(kind, frozenset()) | EXPANDABLE["_nested"]
            if key not in allowed:
                raise _cannot(path)
            resolved = st.render_id(value)
            if resolved is None:
                # Stripe leaves an id it cannot find (e.g. a deleted object) as it is.
                return
            node[key] = value = resolved
    if rest:
        if value is None:
            return
        if not isinstance(value, dict):
            raise _cannot(path)
        _walk(st, value, rest, path)


def expand_paths(params: Params) -> list[str]:
    return params.text_list("expand") or []


def paginate(
    st: StripeState,
    items: list[dict[str, Any]],
    params: Params,
    url: str,
    *,
    lookup: Callable[[str], dict[str, Any] | None],
    kind_name: str,
    render: Callable[[dict[str, Any]], dict[str, Any]],
) -> dict[str, Any]:
    """A Stripe list of ``items`` (already filtered, newest first) honouring cursors."""
    limit = params.integer("limit")
    if limit is None:
        limit = 10
    if limit < 1 or limit > 100:
        raise invalid_param(
            "This value must be greater than or equal to 1 and less than or equal to 100.",
            "limit",
        )
    after = params.text("starting_after")
    before = params.text("ending_before")
    if after and before:
        raise invalid_param(
            "You may only specify one of these parameters: ending_before, starting_after.",
            "starting_after",
        )
    if after or before:
        cursor_id = after or before
        assert cursor_id is not None
        cursor = lookup(cursor_id)
        if cursor is None:
            raise resource_missing(
                kind_name, cursor_id, "starting_after" if after else "ending_before"
            )
        key = st.sort_key(cursor)
        if after:
            window = [o for o in items if st.sort_key(o) < key]
            page, has_more = window[:limit], len(window) > limit
        else:
            window = [o for o in items if st.sort_key(o) > key]
            page, has_more = window[-limit:], len(window) > limit
    else:
        page, has_more = items[:limit], len(items) > limit
    return ob.list_object([render(o) for o in page], url, has_more)


def fields_match(obj: dict[str, Any], **filters: object) -> bool:
    """Whether ``obj`` passes a list call's equality filters (field name = parameter value).

    A ``None`` filter was not sent, so it lets everything through.
    """
    return all(value is None or obj[field] == value for field, value in filters.items())


def created_filter(params: Params) -> Callable[[dict[str, Any]], bool]:
    """``created=<ts>`` or ``created[gt|gte|lt|lte]=<ts>``."""
    if not params.has("created"):
        return lambda _o: True
    if isinstance(params.raw.get("created"), str):
        exact = params.integer("created")
        return lambda o: exact is None or o["created"] == exact
    sub = params.sub("created")
    assert sub is not None
    gt, gte, lt, lte = (sub.integer(k) for k in ("gt", "gte", "lt", "lte"))

    def check(o: dict[str, Any]) -> bool:
        c = int(o["created"])
        return (
            (gt is None or c > gt)
            and (gte is None or c >= gte)
            and (lt is None or c < lt)
            and (lte is None or c <= lte)
        )

    return check
