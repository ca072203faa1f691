"""Mapping records: paths with list indexes, value maps, cross-reference lookups (a real
SQLite file), defaults, constants, conditions, nested lists and named transforms; and the
inbound mapping of Stripe's own sample payloads."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest

from syncwright.errors import BusinessRuleError
from syncwright.mapping import (
    DryRunResolver,
    XrefResolver,
    compile_text,
    load_mapping,
    shipped_mapping,
)
from syncwright.model import Account, Invoice, InvoiceStatus, Money
from syncwright.store import Database
from syncwright.xref import CrossReference

SAMPLES = Path(__file__).parent / "samples"

ORDERS = """\
name: shop_orders
version: 1
vendor: stripe
direction: inbound
options: {default_region: EU, tier_field: plan}
value_maps:
  tier: {gold: premium, silver: standard}
entities:
  order:
    label: "order {id}"
    fields:
      global_id: {from: id, xref: {entity: order, to: global}}
      first_sku: "items[0].sku"
      second_sku: "items[1].sku"
      tier: {from: meta.level, map: tier}
      region: {from: meta.region, default_from: $options.default_region}
      source: {const: shop}
      note: {from: note, default: none given}
      total:
        from: total_cents
        transform: {name: money_from_minor, args_from: {currency: currency}}
      placed_on: {from: placed, transform: iso_date_from_epoch}
      status:
        when: {state: [paid, shipped]}
        const: closed
        otherwise: {from: state}
      "extra.{$options.tier_field}": meta.level
      lines: {from: items, each: line}
  line:
    label: "{$parent_label} item {sku}"
    fields:
      sku: {from: sku, required: true}
      quantity: {from: qty, transform: integer}
      order_status: $parent.status
"""

ORDER = {
    "id": "o_1",
    "items": [{"sku": "A", "qty": "2"}, {"sku": "B", "qty": 1.0}],
    "meta": {"level": "gold"},
    "total_cents": 1250,
    "currency": "eur",
    "placed": 1_767_225_600,
    "state": "paid",
}


@pytest.fixture
def xref(sqlite_url: str) -> Iterator[CrossReference]:
    db = Database(sqlite_url)
    db.upgrade()
    try:
        yield CrossReference(db)
    finally:
        db.dispose()


def test_an_order_maps_field_by_field(xref: CrossReference) -> None:
    mapping = compile_text(ORDERS)
    out = mapping.apply("order", ORDER, resolver=XrefResolver(xref, "shop"))
    gid = xref.global_id_for("order", "shop", "o_1")
    assert gid is not None and out["global_id"] == gid
    assert (out["first_sku"], out["second_sku"]) == ("A", "B")
    assert out["tier"] == "premium"
    assert out["region"] == "EU" and out["source"] == "shop" and out["note"] == "none given"
    assert out["total"] == Money.of(1250, "EUR")
    assert out["placed_on"] == date(2026, 1, 1)
    assert out["status"] == "closed"
    assert out["extra"] == {"plan": "gold"}
    assert out["lines"] == [
        {"sku": "A", "quantity": 2, "order_status": "closed"},
        {"sku": "B", "quantity": 1, "order_status": "closed"},
    ]
    # The same native id resolves to the same global id; options override the file's.
    again = mapping.apply(
        "order",
        {**ORDER, "state": "open", "meta": {"level": "silver", "region": "US"}},
        options={"tier_field": "level"},
        resolver=XrefResolver(xref, "shop"),
    )
    assert again["global_id"] == gid
    assert (again["status"], again["region"], again["tier"]) == ("open", "US", "standard")
    assert again["extra"] == {"level": "silver"}


def test_dry_run_resolver_never_writes(xref: CrossReference) -> None:
    out = compile_text(ORDERS).apply("order", ORDER, resolver=DryRunResolver(xref, "shop"))
    assert out["global_id"] == "(new order: shop/o_1)"
    assert xref.global_id_for("order", "shop", "o_1") is None


def test_outbound_xref_reads_the_native_id(xref: CrossReference) -> None:
    xref.link("account", "acct_9", "erp", "C-77")
    mapping = compile_text(
        "name: erp_out\nversion: 1\nvendor: netsuite\ndirection: outbound\nentities:\n"
        "  customer:\n    fields:\n"
        "      id: {from: global_id, xref: {entity: account, to: native}}\n"
        "      externalId: global_id\n"
    )
    out = mapping.apply("customer", {"global_id": "acct_9"}, resolver=XrefResolver(xref, "erp"))
    assert out == {"id": "C-77", "externalId": "acct_9"}


def test_unmappable_values_raise_business_errors_naming_record_and_field() -> None:
    mapping = compile_text(ORDERS)
    with pytest.raises(BusinessRuleError) as caught:
        mapping.apply("order", {**ORDER, "meta": {"level": "bronze"}})
    assert caught.value.code == "stripe.mapping_invalid"
    assert caught.value.message == "order o_1: tier: 'bronze' has no entry in value map 'tier'"
    with pytest.raises(BusinessRuleError) as caught:
        mapping.apply("order", {**ORDER, "total_cents": 12.5})
    assert "order o_1: total: expected an amount in minor units" in caught.value.message
    with pytest.raises(BusinessRuleError) as caught:
        mapping.apply("order", {**ORDER, "items": [{"qty": 1}]})
    assert caught.value.message == "order o_1 item : has no sku"
    with pytest.raises(BusinessRuleError) as caught:
        mapping.apply("order", {**ORDER, "items": [{"sku": "A", "qty": 1.5}]})
    assert caught.value.message == "order o_1 item A: quantity: expected a whole number, got 1.5"


def _sample(name: str) -> dict[str, object]:
    data: dict[str, object] = json.loads((SAMPLES / name).read_text())
    return data


def test_stripe_sample_invoice_maps_to_a_canonical_invoice(xref: CrossReference) -> None:
    mapping = load_mapping(SAMPLES / "stripe_invoice_v1.yaml")
    event = _sample("stripe_invoice_finalized.json")
    selected = mapping.select(event)
    assert selected is not None and selected[0] == "invoice"
    fields = mapping.apply("invoice", selected[1], resolver=XrefResolver(xref, "stripe"))
    invoice = Invoice.model_validate(fields)
    assert invoice.global_id == xref.global_id_for(
        "invoice", "stripe", "in_1Pgc6tB7WZ01zgkWu9fdqL6I"
    )
    assert invoice.account_id == xref.global_id_for("account", "stripe", "cus_QXg1o8vcGmoR32")
    assert invoice.status is InvoiceStatus.DRAFT and invoice.currency == "USD"
    assert invoice.total == Money.of(1000, "USD") and invoice.amount_paid == Money.of(0, "USD")
    assert invoice.issue_date == date(2009, 2, 13)  # effective_at 1234567890
    (line,) = invoice.lines
    assert line.description == "My First Invoice Item (created for API docs)"
    assert line.amount == Money.of(1000, "USD") and line.period_start == date(2024, 7, 26)
    assert invoice.subscription_id is None  # lines.data[0].subscription is null


def test_stripe_sample_customer_maps_and_other_events_are_not_taken() -> None:
    mapping = load_mapping(SAMPLES / "stripe_invoice_v1.yaml")
    selected = mapping.select(_sample("stripe_customer_created.json"))
    assert selected is not None and selected[0] == "customer"
    fields = mapping.apply("customer", selected[1], resolver=DryRunResolver(None, "stripe"))
    account = Account.model_validate(fields)
    assert account.name == "cus_QXg1o8vcGmoR32" and account.currency == "USD"
    assert mapping.select({"type": "charge.succeeded", "data": {"object": {}}}) is None


def test_single_nested_record_and_skipped_nulls() -> None:
    mapping = compile_text(
        "name: out\nversion: 1\nvendor: stripe\ndirection: outbound\nentities:\n"
        "  customer:\n    fields:\n"
        "      name: name\n"
        "      email: {from: email, skip_null: true}\n"
        "      address: {from: bill_to, each: address, skip_null: true}\n"
        "  address:\n    fields:\n      state: region\n      line2: line2\n"
    )
    full = mapping.apply("customer", {"name": "A", "email": "a@x", "bill_to": {"region": "CA"}})
    assert full == {"name": "A", "email": "a@x", "address": {"state": "CA", "line2": None}}
    assert mapping.apply("customer", {"name": "A"}) == {"name": "A"}


def test_salesforce_shipped_mapping_on_a_cdc_account_event(xref: CrossReference) -> None:
    mapping = shipped_mapping("salesforce", "inbound")
    assert mapping is not None
    event = {
        "payload": {
            "ChangeEventHeader": {"entityName": "Account", "changeType": "CREATE"},
            "Id": "001000000000001AAA",
            "Name": " Acme GmbH ",
            "BillingStreet": "Hauptstr. 1\nHinterhaus",
            "BillingCity": "Berlin",
            "BillingCountry": "de",
            "Legal_Entity__c": "Syncwright GmbH",
        }
    }
    selected = mapping.select(event)
    assert selected is not None and selected[0] == "account"
    fields = mapping.apply(
        "account",
        selected[1],
        options={"default_currency": "eur"},
        resolver=XrefResolver(xref, "sf"),
    )
    account = Account.model_validate(fields)
    assert account.global_id == xref.global_id_for("account", "sf", "001000000000001AAA")
    assert account.name == "Acme GmbH" and account.currency == "EUR"
    assert account.subsidiary == "Syncwright GmbH"
    assert account.bill_to is not None
    assert (account.bill_to.line1, account.bill_to.line2, account.bill_to.country) == (
        "Hauptstr. 1",
        "Hinterhaus",
        "DE",
    )
    with pytest.raises(BusinessRuleError) as caught:
        mapping.apply("account", {**selected[1], "BillingCity": None})
    assert caught.value.code == "salesforce.address_incomplete"


def test_a_value_map_falls_back_to_its_star_entry() -> None:
    mapping = compile_text(
        "name: m\nversion: 1\nvendor: stripe\ndirection: inbound\n"
        "value_maps:\n  reason: {duplicate: duplicate, '*': other}\n"
        "entities:\n  note:\n    fields:\n"
        "      reason: {from: reason, map: reason, default: other}\n"
    )
    assert mapping.apply("note", {"reason": "duplicate"}) == {"reason": "duplicate"}
    assert mapping.apply("note", {"reason": "goodwill"}) == {"reason": "other"}
    assert mapping.apply("note", {}) == {"reason": "other"}
