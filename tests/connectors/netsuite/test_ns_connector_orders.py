"""NetSuite connector: sales orders from subscriptions (decimal amounts from minor units),
closing them on cancellation, and voiding them as a compensation."""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING

import pytest

from syncwright.connectors.netsuite.outbound import (
    close_sales_order,
    probe_close_sales_order,
    probe_sales_order,
    upsert_customer,
    upsert_invoice,
    upsert_sales_order,
    void_sales_order,
)
from syncwright.errors import BusinessRuleError

if TYPE_CHECKING:
    from tests.connectors.netsuite.conftest import NsWorld


def _customer(world: NsWorld, gid: str, **kwargs: object) -> dict[str, object]:
    return upsert_customer(world.ctx(), "netsuite", world.account(gid, **kwargs))  # type: ignore[arg-type]


def test_sales_order_lines_and_totals_from_minor_units(ns_world: NsWorld) -> None:
    customer = _customer(ns_world, "acct_so")
    subscription = ns_world.subscription(
        "sub_1", "acct_so", [("price_std", 3, 1234), ("price_seat", 7, 999)]
    )
    result = upsert_sales_order(ns_world.ctx("erp.sales_order"), "netsuite", subscription, customer)

    order = ns_world.state.get("salesOrder", result["native_id"])
    assert order["externalId"] == "sub_1"
    assert order["entity"] == customer["native_id"]
    assert order["subsidiary"] == "2"  # from the customer
    assert order["currency"] == "2"
    assert (order["tranDate"], order["startDate"], order["endDate"]) == (
        "2026-01-01",
        "2026-01-01",
        "2027-01-01",
    )
    assert order["orderStatus"] == "B"
    lines = [
        (line["item"], line["quantity"], line["rate"], line["amount"]) for line in order["item"]
    ]
    assert lines == [
        ("98", Decimal(3), Decimal("12.34"), Decimal("37.02")),
        ("102", Decimal(7), Decimal("9.99"), Decimal("69.93")),
    ]
    assert order["subtotal"] == order["total"] == Decimal("106.95")
    assert result["total"] == {"amount_minor": 10695, "currency": "GBP"}
    assert result["ledger"]["entity_type"] == "subscription"
    xref = ns_world.runtime.xref
    assert xref.native_id_for("subscription", "sub_1", "netsuite") == result["native_id"]


def test_zero_decimal_currency(ns_world: NsWorld) -> None:
    _customer(ns_world, "acct_jp", subsidiary="Syncwright KK", currency="JPY")
    subscription = ns_world.subscription(
        "sub_jp", "acct_jp", [("price_pro", 2, 1500), ("price_seat", 3, 333)], currency="JPY"
    )
    # customer_ref None: the subscription's account is found through the cross-reference.
    result = upsert_sales_order(ns_world.ctx(), "netsuite", subscription)
    order = ns_world.state.get("salesOrder", result["native_id"])
    assert order["currency"] == ns_world.jpy_currency
    assert [(line["rate"], line["amount"]) for line in order["item"]] == [
        (Decimal(1500), Decimal(3000)),
        (Decimal(333), Decimal(999)),
    ]
    assert order["total"] == Decimal(3999)
    assert result["total"] == {"amount_minor": 3999, "currency": "JPY"}


def test_reupsert_replaces_lines_and_keeps_one_order(ns_world: NsWorld) -> None:
    customer = _customer(ns_world, "acct_up")
    first = ns_world.subscription("sub_up", "acct_up", [("price_std", 1, 3995)])
    one = upsert_sales_order(ns_world.ctx(), "netsuite", first, customer)
    amended = ns_world.subscription(
        "sub_up", "acct_up", [("price_pro", 2, 9900), ("price_seat", 5, 1250)]
    )
    two = upsert_sales_order(ns_world.ctx(), "netsuite", amended, {"externalId": "acct_up"})
    assert one["native_id"] == two["native_id"]
    assert len(ns_world.state.ids("salesOrder")) == 1
    order = ns_world.state.get("salesOrder", two["native_id"])
    assert [(line["item"], line["amount"]) for line in order["item"]] == [
        ("100", Decimal("198.00")),
        ("102", Decimal("62.50")),
    ]
    assert order["total"] == Decimal("260.50")
    # The probe recognises this version, and not the earlier one.
    assert probe_sales_order(ns_world.ctx(), "netsuite", amended) is not None
    assert probe_sales_order(ns_world.ctx(), "netsuite", first) is None


def test_unmapped_item_and_unsynced_customer_park(ns_world: NsWorld) -> None:
    _customer(ns_world, "acct_items")
    unknown = ns_world.subscription("sub_x", "acct_items", [("price_unknown", 1, 100)])
    with pytest.raises(BusinessRuleError) as caught:
        upsert_sales_order(ns_world.ctx(), "netsuite", unknown)
    assert caught.value.code == "netsuite.unmapped_item"
    assert "connections.netsuite.options.items" in caught.value.remediation
    assert "connections.netsuite.options.default_item" in caught.value.remediation

    orphan = ns_world.subscription("sub_y", "acct_nobody", [("price_std", 1, 100)])
    with pytest.raises(BusinessRuleError) as missing:
        upsert_sales_order(ns_world.ctx(), "netsuite", orphan)
    assert missing.value.code == "netsuite.customer_not_synced"
    assert ns_world.state.ids("salesOrder") == []


def test_items_mapped_by_a_stripe_price_id(ns_world: NsWorld) -> None:
    """options.items may be keyed by another system's native id of the canonical price."""
    _customer(ns_world, "acct_stripe")
    ns_world.runtime.xref.link("price", "price_glob_9", "stripe", "price_1StripeSeat")
    subscription = ns_world.subscription("sub_alias", "acct_stripe", [("price_glob_9", 1, 1250)])
    result = upsert_sales_order(ns_world.ctx(), "netsuite", subscription)
    assert ns_world.state.get("salesOrder", result["native_id"])["item"][0]["item"] == "102"


def test_close_sales_order_on_cancellation(ns_world: NsWorld) -> None:
    customer = _customer(ns_world, "acct_cancel")
    subscription = ns_world.subscription(
        "sub_cancel", "acct_cancel", [("price_std", 1, 3995), ("price_seat", 2, 1250)]
    )
    upsert_sales_order(ns_world.ctx(), "netsuite", subscription, customer)
    cancelled = {
        **subscription,
        "status": "cancelled",
        "cancelled_at": "2026-06-15T12:00:00+00:00",
    }
    assert probe_close_sales_order(ns_world.ctx(), "netsuite", cancelled) is None
    result = close_sales_order(ns_world.ctx("erp.close"), "netsuite", cancelled)
    order = ns_world.state.find_by_external_id("salesOrder", "sub_cancel")
    assert [line["isClosed"] for line in order["item"]] == [True, True]
    assert order["endDate"] == "2026-06-15"
    assert result["closed_lines"] == 2
    assert result["end_date"] == "2026-06-15"
    # Idempotent, and the probe sees it done; an explicit effective date wins.
    close_sales_order(ns_world.ctx(), "netsuite", cancelled, "2026-06-30")
    assert ns_world.state.get("salesOrder", order["id"])["endDate"] == "2026-06-30"
    assert probe_close_sales_order(ns_world.ctx(), "netsuite", cancelled) is not None

    with pytest.raises(BusinessRuleError) as caught:
        close_sales_order(ns_world.ctx(), "netsuite", {**cancelled, "global_id": "sub_none"})
    assert caught.value.code == "netsuite.sales_order_not_found"


def test_void_sales_order_deletes_or_closes(ns_world: NsWorld) -> None:
    customer = _customer(ns_world, "acct_void")
    subscription = ns_world.subscription("sub_void", "acct_void", [("price_std", 1, 3995)])
    result = upsert_sales_order(ns_world.ctx(), "netsuite", subscription, customer)
    void_sales_order(ns_world.ctx(), result, "netsuite", subscription, customer)
    assert ns_world.state.find_by_external_id("salesOrder", "sub_void") is None
    void_sales_order(ns_world.ctx(), result, "netsuite", subscription, customer)  # already gone

    # Once an invoice was created from it, NetSuite refuses the delete: the order is closed.
    kept = upsert_sales_order(ns_world.ctx(), "netsuite", subscription, customer)
    invoice = ns_world.invoice(
        "inv_void", "acct_void", [("price_std", 1, 3995)], subscription_id="sub_void"
    )
    upsert_invoice(ns_world.ctx(), "netsuite", invoice)
    void_sales_order(ns_world.ctx(), kept, "netsuite", subscription, customer)
    order = ns_world.state.find_by_external_id("salesOrder", "sub_void")
    assert [line["isClosed"] for line in order["item"]] == [True]
