"""NetSuite connector: invoices, payments, credit memos, dunning; the audit trail and xref."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
import sqlalchemy as sa

from syncwright.connectors.netsuite.outbound import (
    apply_payment,
    mark_dunning,
    probe_apply_payment,
    probe_credit_memo,
    probe_invoice,
    probe_mark_dunning,
    upsert_credit_memo,
    upsert_customer,
    upsert_invoice,
    upsert_sales_order,
    void_credit_memo,
    void_invoice,
    void_payment,
)
from syncwright.errors import BusinessRuleError
from syncwright.store.tables import audit
from tests._support import wait_until

if TYPE_CHECKING:
    from tests.connectors.netsuite.conftest import Emulator, NsWorld


def _audit_rows(world: NsWorld) -> list[dict[str, Any]]:
    world.record_audit()
    with world.runtime.db.engine.connect() as conn:
        rows = conn.execute(sa.select(audit).order_by(audit.c.id)).mappings()
        return [dict(row) for row in rows]


def _setup(world: NsWorld, account: str, subscription: str | None = None) -> dict[str, Any]:
    customer = upsert_customer(world.ctx(), "netsuite", world.account(account))
    if subscription is not None:
        sub = world.subscription(subscription, account, [("price_std", 3, 1234)])
        upsert_sales_order(world.ctx(), "netsuite", sub, customer)
    return customer


def test_invoice_then_payment_marks_it_paid(ns_world: NsWorld) -> None:
    _setup(ns_world, "acct_pay", "sub_pay")
    # 3 x 12.34 GBP at the UK standard rate (20 %): 37.02 + 7.40 tax = 44.42
    invoice = ns_world.invoice(
        "inv_pay", "acct_pay", [("price_std", 3, 1234)], tax_minor=740, subscription_id="sub_pay"
    )
    written = upsert_invoice(ns_world.ctx("erp.invoice"), "netsuite", invoice)
    record = ns_world.state.get("invoice", written["native_id"])
    order = ns_world.state.find_by_external_id("salesOrder", "sub_pay")
    assert record["externalId"] == "inv_pay"
    assert record["createdFrom"] == order["id"]
    assert record["entity"] == order["entity"]
    assert (record["tranDate"], record["dueDate"]) == ("2026-02-01", "2026-03-03")
    assert [
        (line["item"], line["rate"], line["amount"], line["taxCode"]) for line in record["item"]
    ] == [("98", Decimal("12.34"), Decimal("37.02"), "5")]
    assert (record["subtotal"], record["taxTotal"], record["total"]) == (
        Decimal("37.02"),
        Decimal("7.40"),
        Decimal("44.42"),
    )
    assert record["memo"] == "Invoice INV-inv_pay"
    assert written["status"] == "A"
    assert written["amount_remaining"] == {"amount_minor": 4442, "currency": "GBP"}
    assert written["created_from"] == order["id"]

    payment = ns_world.payment("pay_1", "acct_pay", 4442, "inv_pay")
    run = ns_world.ctx("erp.payment").workflow_id
    paid = apply_payment(ns_world.ctx("erp.payment", workflow_id=run), "netsuite", payment)
    assert ns_world.state.get("invoice", written["native_id"])["status"] == "B"
    assert ns_world.state.get("invoice", written["native_id"])["amountRemaining"] == 0
    booked = ns_world.state.get("customerPayment", paid["native_id"])
    assert booked["externalId"] == "pay_1"
    assert booked["payment"] == Decimal("44.42")
    assert booked["tranDate"] == "2026-02-05"
    assert paid["invoices"] == {
        "inv_pay": {
            "native_id": written["native_id"],
            "status": "B",
            "amount_remaining": {"amount_minor": 0, "currency": "GBP"},
        }
    }
    # Again in the same run (a retry), and its probe: one payment, still paid, audited once.
    again = apply_payment(ns_world.ctx("erp.payment", workflow_id=run), "netsuite", payment)
    assert again["native_id"] == paid["native_id"]
    assert len(ns_world.state.ids("customerPayment")) == 1
    probe_ctx = ns_world.ctx("erp.payment", workflow_id=run)
    assert probe_apply_payment(probe_ctx, "netsuite", payment) is not None
    # A later run (a replay) books it again, and audits that write.
    apply_payment(ns_world.ctx("erp.payment"), "netsuite", payment)

    xref = ns_world.runtime.xref
    assert xref.native_id_for("invoice", "inv_pay", "netsuite") == written["native_id"]
    assert xref.native_id_for("payment", "pay_1", "netsuite") == paid["native_id"]
    assert xref.native_id_for("subscription", "sub_pay", "netsuite") == order["id"]

    rows = _audit_rows(ns_world)
    assert [(r["action"], r["amount_minor"], r["currency"]) for r in rows] == [
        ("netsuite.invoice.upsert", 4442, "GBP"),
        ("netsuite.customerPayment.upsert", 4442, "GBP"),
        ("netsuite.customerPayment.upsert", 4442, "GBP"),
    ]
    assert rows[0]["native_id"] == written["native_id"]
    assert rows[0]["connection"] == "netsuite"
    assert ns_world.runtime.audit.verify().ok


def test_paid_invoice_books_its_own_payment(ns_world: NsWorld) -> None:
    _setup(ns_world, "acct_paid")
    invoice = ns_world.invoice("inv_paid", "acct_paid", [("price_pro", 1, 9900)])
    upsert_invoice(ns_world.ctx(), "netsuite", invoice)
    paid_invoice = ns_world.invoice("inv_paid", "acct_paid", [("price_pro", 1, 9900)], paid=True)
    result = apply_payment(ns_world.ctx(), "netsuite", paid_invoice)
    assert result["external_id"] == "inv_paid.payment"
    assert result["invoices"]["inv_paid"]["status"] == "B"
    assert ns_world.state.find_by_external_id("invoice", "inv_paid")["status"] == "B"

    with pytest.raises(BusinessRuleError) as caught:
        apply_payment(ns_world.ctx(), "netsuite", invoice)  # not paid
    assert caught.value.code == "netsuite.invoice_unpaid"
    failed = {**ns_world.payment("pay_f", "acct_paid", 100, "inv_paid"), "status": "failed"}
    with pytest.raises(BusinessRuleError) as not_ok:
        apply_payment(ns_world.ctx(), "netsuite", failed)
    assert not_ok.value.code == "netsuite.payment_not_succeeded"


def test_credit_memo_applied_to_the_invoice(ns_world: NsWorld) -> None:
    _setup(ns_world, "acct_cm")
    invoice = ns_world.invoice("inv_cm", "acct_cm", [("price_std", 3, 1234)], tax_minor=740)
    written = upsert_invoice(ns_world.ctx(), "netsuite", invoice)
    note = ns_world.credit_note("cn_1", "acct_cm", "inv_cm", 1000)
    run = ns_world.ctx().workflow_id
    result = upsert_credit_memo(ns_world.ctx("erp.credit", workflow_id=run), "netsuite", note)

    memo = ns_world.state.get("creditMemo", result["native_id"])
    assert memo["externalId"] == "cn_1"
    assert memo["createdFrom"] == written["native_id"]
    assert memo["total"] == Decimal("10.00")
    assert [(line["doc"], line["amount"]) for line in memo["apply"]] == [
        (written["native_id"], Decimal("10.00"))
    ]
    assert ns_world.state.get("invoice", written["native_id"])["amountRemaining"] == Decimal(
        "34.42"
    )
    assert result["applied"] == {"amount_minor": 1000, "currency": "GBP"}
    # Upserting it again (a later run) applies the same amount once.
    again = upsert_credit_memo(ns_world.ctx("erp.credit"), "netsuite", note)
    assert again["native_id"] == result["native_id"]
    assert ns_world.state.get("invoice", written["native_id"])["amountRemaining"] == Decimal(
        "34.42"
    )
    assert probe_credit_memo(ns_world.ctx(workflow_id=run), "netsuite", note) is not None
    assert (
        ns_world.runtime.xref.native_id_for("credit_note", "cn_1", "netsuite")
        == result["native_id"]
    )

    # A credit larger than what is open applies only what is open; the rest stays credit.
    big = ns_world.credit_note("cn_2", "acct_cm", "inv_cm", 5000)
    second = upsert_credit_memo(ns_world.ctx(), "netsuite", big)
    assert second["applied"] == {"amount_minor": 3442, "currency": "GBP"}
    invoice_after = ns_world.state.get("invoice", written["native_id"])
    assert invoice_after["amountRemaining"] == 0
    assert invoice_after["status"] == "B"

    actions = [(r["action"], r["amount_minor"]) for r in _audit_rows(ns_world)]
    assert actions == [
        ("netsuite.invoice.upsert", 4442),
        ("netsuite.creditMemo.upsert", 1000),
        ("netsuite.creditMemo.upsert", 1000),
        ("netsuite.creditMemo.upsert", 5000),
    ]
    assert ns_world.runtime.audit.verify().ok


def test_mark_dunning(ns_world: NsWorld) -> None:
    _setup(ns_world, "acct_dun")
    invoice = ns_world.invoice("inv_dun", "acct_dun", [("price_std", 1, 3995)])
    written = upsert_invoice(ns_world.ctx(), "netsuite", invoice)
    assert probe_mark_dunning(ns_world.ctx(), "netsuite", invoice, 2, "card_declined") is None
    result = mark_dunning(ns_world.ctx("erp.dunning"), "netsuite", invoice, 2, "card_declined")
    record = ns_world.state.get("invoice", written["native_id"])
    assert record["custbody_dunning_status"] == "Payment attempt 2 failed: card_declined"
    assert record["custbody_dunning_attempts"] == 2
    assert record["total"] == Decimal("39.95")  # nothing else changed
    assert result["native_id"] == written["native_id"]
    assert result["ledger"]["entity_type"] == "invoice"
    assert probe_mark_dunning(ns_world.ctx(), "netsuite", invoice, 2, "card_declined") is not None
    # Rendered by the REST record service too.
    fetched = ns_world.connector.client.get("invoice", written["native_id"])
    assert fetched["custbody_dunning_attempts"] == 2

    with pytest.raises(BusinessRuleError) as caught:
        mark_dunning(ns_world.ctx(), "netsuite", {**invoice, "global_id": "inv_none"}, 1)
    assert caught.value.code == "netsuite.invoice_not_synced"


def test_tax_mismatch_and_unmapped_tax_park_before_writing(ns_world: NsWorld) -> None:
    _setup(ns_world, "acct_tax")
    wrong = ns_world.invoice("inv_tax", "acct_tax", [("price_std", 3, 1234)], tax_minor=700)
    with pytest.raises(BusinessRuleError) as caught:
        upsert_invoice(ns_world.ctx(), "netsuite", wrong)
    assert caught.value.code == "netsuite.tax_mismatch"
    assert "7.40 GBP" in caught.value.message
    assert "connections.netsuite.options.tax_codes" in caught.value.remediation

    upsert_customer(
        ns_world.ctx(),
        "netsuite",
        ns_world.account("acct_us", subsidiary="Parent Company", currency="USD"),
    )
    us = ns_world.invoice(
        "inv_us", "acct_us", [("price_std", 1, 1000)], tax_minor=73, currency="USD"
    )
    with pytest.raises(BusinessRuleError) as unmapped:
        upsert_invoice(ns_world.ctx(), "netsuite", us)
    assert unmapped.value.code == "netsuite.unmapped_tax_code"
    assert ns_world.state.ids("invoice") == []
    assert _audit_rows(ns_world) == []


def test_discount_needs_a_discount_item(emulator: Emulator, tmp_path: Path) -> None:
    from tests.connectors.netsuite.conftest import make_ns_world

    def discounted(world: NsWorld) -> dict[str, Any]:
        invoice = world.invoice("inv_disc", "acct_disc", [("price_pro", 2, 9900)], tax_minor=3760)
        # 198.00 - 10.00 discount = 188.00, + 20 % tax 37.60 = 225.60
        return {
            **invoice,
            "discount_total": world.money(1000, "GBP"),
            "total": world.money(22560, "GBP"),
        }

    plain = make_ns_world(emulator, tmp_path / "plain")
    try:
        _setup(plain, "acct_disc")
        with pytest.raises(BusinessRuleError) as caught:
            upsert_invoice(plain.ctx(), "netsuite", discounted(plain))
        assert caught.value.code == "netsuite.unmapped_discount"
    finally:
        plain.runtime.close()

    emulator.sandbox.reset()
    world = make_ns_world(emulator, tmp_path / "disc", extra_options="      discount_item: 104\n")
    try:
        _setup(world, "acct_disc")
        result = upsert_invoice(world.ctx(), "netsuite", discounted(world))
        record = world.state.get("invoice", result["native_id"])
        assert [(line["item"], line["amount"]) for line in record["item"]] == [
            ("100", Decimal("198.00")),
            ("104", Decimal("-10.00")),
        ]
        assert record["total"] == Decimal("225.60")
    finally:
        world.runtime.close()


def test_compensations(ns_world: NsWorld) -> None:
    _setup(ns_world, "acct_comp")
    invoice = ns_world.invoice("inv_comp", "acct_comp", [("price_std", 1, 3995)])
    written = upsert_invoice(ns_world.ctx(), "netsuite", invoice)
    payment = ns_world.payment("pay_comp", "acct_comp", 3995, "inv_comp")
    paid = apply_payment(ns_world.ctx(), "netsuite", payment)
    assert ns_world.state.get("invoice", written["native_id"])["status"] == "B"

    # An invoice with a payment applied cannot be deleted: the compensation reports it.
    with pytest.raises(BusinessRuleError):
        void_invoice(ns_world.ctx(), written, "netsuite", invoice)
    void_payment(ns_world.ctx(), paid, "netsuite", payment)
    reopened = ns_world.state.get("invoice", written["native_id"])
    assert (reopened["status"], reopened["amountRemaining"]) == ("A", Decimal("39.95"))

    note = ns_world.credit_note("cn_comp", "acct_comp", "inv_comp", 500)
    credited = upsert_credit_memo(ns_world.ctx(), "netsuite", note)
    void_credit_memo(ns_world.ctx(), credited, "netsuite", note)
    assert ns_world.state.get("invoice", written["native_id"])["amountRemaining"] == Decimal(
        "39.95"
    )
    void_invoice(ns_world.ctx(), written, "netsuite", invoice)
    assert ns_world.state.find_by_external_id("invoice", "inv_comp") is None
    void_invoice(ns_world.ctx(), written, "netsuite", invoice)  # already gone: no error

    actions = [r["action"] for r in _audit_rows(ns_world)]
    assert actions == [
        "netsuite.invoice.upsert",
        "netsuite.customerPayment.upsert",
        "netsuite.customerPayment.delete",
        "netsuite.creditMemo.upsert",
        "netsuite.creditMemo.delete",
        "netsuite.invoice.delete",
    ]
    assert ns_world.runtime.audit.verify().ok


def test_probe_invoice_after_a_lost_response(emulator: Emulator, tmp_path: Path) -> None:
    from syncwright.errors import UncertainOutcomeError
    from syncwright.sandbox import FaultPlan
    from tests.connectors.netsuite.conftest import make_ns_world

    world = make_ns_world(emulator, tmp_path, timeout_seconds=0.5)
    try:
        _setup(world, "acct_lost")
        invoice = world.invoice("inv_lost", "acct_lost", [("price_std", 2, 3995)])
        assert probe_invoice(world.ctx(), "netsuite", invoice) is None
        emulator.sandbox.configure_faults(
            FaultPlan(lost_response_rate=1.0, stall_seconds=1.0, only_methods=frozenset({"PUT"}))
        )
        with pytest.raises(UncertainOutcomeError):
            upsert_invoice(world.ctx(), "netsuite", invoice)
        emulator.sandbox.configure_faults(FaultPlan())
        assert _audit_rows(world) == []  # the step did not get to audit
        found = probe_invoice(world.ctx(), "netsuite", invoice)
        assert found is not None
        assert found["total"] == {"amount_minor": 7990, "currency": "GBP"}
        rows = _audit_rows(world)
        assert [(r["action"], r["native_id"]) for r in rows] == [
            ("netsuite.invoice.upsert", found["native_id"])
        ]
        assert len(world.state.ids("invoice")) == 1
    finally:
        world.runtime.close()
        # Let the held answer go out, so the next test starts with no request in flight.
        governor = emulator.sandbox.governor
        wait_until(lambda: governor.in_flight == 0, timeout=10, what="emulator idle")


def test_a_total_netsuite_changed_is_reported(ns_world: NsWorld) -> None:
    """NetSuite applies the customer's default tax item to lines sent without a tax code."""
    customer = _setup(ns_world, "acct_default_tax")
    ns_world.state.update("customer", customer["native_id"], {"taxItem": {"id": "5"}})
    invoice = ns_world.invoice("inv_default_tax", "acct_default_tax", [("price_std", 1, 1000)])
    with pytest.raises(BusinessRuleError) as caught:
        upsert_invoice(ns_world.ctx(), "netsuite", invoice)
    assert caught.value.code == "netsuite.total_mismatch"
    assert "12.0" in caught.value.message and "10.00 GBP" in caught.value.message
    # The write happened, so it is audited and linked: operations fix it from there.
    assert [r["action"] for r in _audit_rows(ns_world)] == ["netsuite.invoice.upsert"]
    assert ns_world.runtime.xref.native_id_for("invoice", "inv_default_tax", "netsuite")


def test_a_payment_after_a_credit_applies_only_what_is_due(ns_world: NsWorld) -> None:
    """Events out of order: the credit note is booked before the invoice's payment. NetSuite
    refuses to apply more than is due, so the payment applies the rest of the invoice and keeps
    the difference unapplied, as customer credit, instead of parking."""
    _setup(ns_world, "acct_ooo")
    invoice = ns_world.invoice("inv_ooo", "acct_ooo", [("price_pro", 1, 9900)])
    written = upsert_invoice(ns_world.ctx(), "netsuite", invoice)
    upsert_credit_memo(
        ns_world.ctx(), "netsuite", ns_world.credit_note("cn_ooo", "acct_ooo", "inv_ooo", 1000)
    )
    paid_invoice = ns_world.invoice("inv_ooo", "acct_ooo", [("price_pro", 1, 9900)], paid=True)
    result = apply_payment(ns_world.ctx(), "netsuite", paid_invoice)

    payment = ns_world.state.get("customerPayment", result["native_id"])
    assert payment["payment"] == Decimal("99.00")  # the whole amount Stripe collected
    assert payment["applied"] == Decimal("89.00")  # what was still due
    assert ns_world.state.get("invoice", written["native_id"])["amountRemaining"] == 0
    assert result["invoices"]["inv_ooo"]["status"] == "B"
    # Run again (a replay): the same payment, the same application, nothing more.
    again = apply_payment(ns_world.ctx(), "netsuite", paid_invoice)
    assert again["native_id"] == result["native_id"]
    assert ns_world.state.get("customerPayment", result["native_id"])["applied"] == Decimal("89.00")


def test_a_payment_for_a_fully_credited_invoice_stays_unapplied(ns_world: NsWorld) -> None:
    _setup(ns_world, "acct_full")
    invoice = ns_world.invoice("inv_full", "acct_full", [("price_pro", 1, 9900)])
    upsert_invoice(ns_world.ctx(), "netsuite", invoice)
    upsert_credit_memo(
        ns_world.ctx(), "netsuite", ns_world.credit_note("cn_full", "acct_full", "inv_full", 9900)
    )
    paid_invoice = ns_world.invoice("inv_full", "acct_full", [("price_pro", 1, 9900)], paid=True)
    result = apply_payment(ns_world.ctx(), "netsuite", paid_invoice)
    payment = ns_world.state.get("customerPayment", result["native_id"])
    assert (payment["payment"], payment["applied"]) == (Decimal("99.00"), Decimal("0.00"))
