"""Subscription billing -> ERP, end to end: a realistic Stripe scenario and a comparison of
what NetSuite holds against what Stripe says, record by record and amount by amount."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from syncwright.demo.billing_world import BillingWorld
from syncwright.model.money import CURRENCY_EXPONENTS

# Customers whose legal entity NetSuite does not know until an operator maps it.
UNMAPPED_ENTITY = "Syncwright Canada Inc"


@dataclass
class Scenario:
    customers: list[str] = field(default_factory=list)
    subscriptions: list[str] = field(default_factory=list)
    failed_payments: list[str] = field(default_factory=list)
    credit_notes: list[str] = field(default_factory=list)
    cancelled: list[str] = field(default_factory=list)
    upgraded: list[str] = field(default_factory=list)
    unmapped: list[str] = field(default_factory=list)


def drive_scenario(
    world: BillingWorld, customers: int, *, seed: int = 7, unmapped: int = 0
) -> Scenario:
    """Customers subscribe; some upgrade mid-term, some fail to pay, some get a credit note,
    some cancel; ``unmapped`` of them belong to a legal entity NetSuite cannot place yet."""
    rng = random.Random(seed)
    client = world.stripe.v1
    product = client.products.create({"name": "Syncwright Cloud"})
    usd = client.prices.create(
        {
            "product": product.id,
            "unit_amount": 4900,
            "currency": "usd",
            "recurring": {"interval": "month"},
        }
    )
    gbp = client.prices.create(
        {
            "product": product.id,
            "unit_amount": 3900,
            "currency": "gbp",
            "recurring": {"interval": "month"},
        }
    )
    scenario = Scenario()
    for n in range(customers):
        uk = n % 4 == 1
        entity = (
            UNMAPPED_ENTITY
            if n >= customers - unmapped
            else ("Syncwright UK Ltd" if uk else "Parent Company")
        )
        fails = n % 9 == 4
        metadata = {"subsidiary": entity, **({"sandbox_payment": "fail"} if fails else {})}
        customer = client.customers.create(
            {
                "name": f"Customer {n:04d} {rng.choice(['Ltd', 'GmbH', 'Inc', 'LLC'])}",
                "email": f"billing{n}@customer{n}.example",
                "payment_method": "pm_card_visa",
                "invoice_settings": {"default_payment_method": "pm_card_visa"},
                "metadata": metadata,
            }
        )
        scenario.customers.append(customer.id)
        if entity == UNMAPPED_ENTITY:
            scenario.unmapped.append(customer.id)
        sub = client.subscriptions.create(
            {
                "customer": customer.id,
                "items": [{"price": (gbp if uk else usd).id, "quantity": rng.randint(1, 5)}],
                "expand": ["latest_invoice"],
            }
        )
        scenario.subscriptions.append(sub.id)
        if fails:
            scenario.failed_payments.append(customer.id)
            continue
        if n % 5 == 2:  # upgrade mid-term, with proration
            item = sub["items"].data[0]
            client.subscriptions.update(
                sub.id,
                {
                    "items": [{"id": item.id, "quantity": item.quantity + 3}],
                    "proration_behavior": "create_prorations",
                },
            )
            scenario.upgraded.append(sub.id)
        if n % 7 == 3:  # a goodwill credit against the paid first invoice
            note = client.credit_notes.create(
                {"invoice": _id(sub.latest_invoice), "amount": 1000, "memo": "Service credit"}
            )
            scenario.credit_notes.append(note.id)
        if n % 8 == 6:
            client.subscriptions.cancel(sub.id)
            scenario.cancelled.append(sub.id)
    return scenario


def _id(value: Any) -> str:
    """An expandable Stripe field: an id, or the expanded object."""
    return value if isinstance(value, str) else str(value.id)


def _minor(value: Any, currency: str) -> int:
    exponent = CURRENCY_EXPONENTS[currency.upper()]
    return int(Decimal(str(value)) * (10**exponent))


@dataclass
class Comparison:
    """Stripe (expected) against NetSuite (actual). ``problems`` empty means in step."""

    counts: dict[str, tuple[int, int]]
    amounts_checked: int
    duplicates: int
    problems: list[str]


def compare(world: BillingWorld, scenario: Scenario) -> Comparison:
    """What NetSuite should hold, from Stripe's own API, against NetSuite's SuiteQL."""
    assert world.runtime is not None
    xref = world.runtime.xref
    stripe = world.stripe.v1
    problems: list[str] = []
    skipped_accounts = set(scenario.unmapped)
    with world.netsuite_client() as netsuite:
        customers = {
            r.get("externalid"): r for r in netsuite.suiteql("SELECT id, externalid FROM customer")
        }
        transactions = list(
            netsuite.suiteql(
                "SELECT id, externalid, recordtype, foreigntotal, foreignamountunpaid "
                "FROM transaction"
            )
        )
    by_type: dict[str, dict[str, dict[str, Any]]] = {}
    duplicates = 0
    for row in transactions:
        bucket = by_type.setdefault(row["recordtype"], {})
        if row.get("externalid") in bucket:
            duplicates += 1
            problems.append(f"duplicate {row['recordtype']} for external id {row['externalid']}")
        bucket[row.get("externalid") or row["id"]] = row

    expected_customers = [c for c in scenario.customers if c not in skipped_accounts]
    for customer in expected_customers:
        gid = xref.global_id_for("account", "stripe", customer)
        if gid is None or gid not in customers:
            problems.append(f"Stripe customer {customer} has no NetSuite customer")

    invoices = [
        inv
        for customer in expected_customers
        for inv in stripe.invoices.list({"customer": customer, "limit": 100}).data
        if inv.status in ("open", "paid")
    ]
    amounts = 0
    paid = 0
    for inv in invoices:
        gid = xref.global_id_for("invoice", "stripe", inv.id)
        record = by_type.get("invoice", {}).get(gid or "")
        if record is None:
            problems.append(f"Stripe invoice {inv.id} ({inv.status}) has no NetSuite invoice")
            continue
        amounts += 1
        if _minor(record["foreigntotal"], inv.currency) != inv.total:
            problems.append(
                f"invoice {inv.id}: Stripe {inv.total} != NetSuite {record['foreigntotal']}"
            )
        if inv.status == "paid" and inv.amount_paid > 0:
            paid += 1
            # A credit memo may have settled part of it too; what matters is nothing stays open.
            if _minor(record["foreignamountunpaid"] or 0, inv.currency) != 0:
                problems.append(f"paid invoice {inv.id} is still open in NetSuite")
    notes = [stripe.credit_notes.retrieve(cn) for cn in scenario.credit_notes]
    for note in notes:
        gid = xref.global_id_for("credit_note", "stripe", note.id)
        record = by_type.get("creditmemo", {}).get(gid or "")
        if record is None:
            problems.append(f"Stripe credit note {note.id} has no NetSuite credit memo")
            continue
        amounts += 1
        if _minor(record["foreigntotal"], note.currency) != note.total:
            problems.append(
                f"credit note {note.id}: Stripe {note.total} != NetSuite {record['foreigntotal']}"
            )
    never_active = _never_active(world, scenario)  # once: it lists every failed customer
    active_subs = [
        s
        for s in scenario.subscriptions
        if s not in never_active
        and stripe.subscriptions.retrieve(s).customer not in skipped_accounts
    ]
    orders = by_type.get("salesorder", {})
    for sub in active_subs:
        gid = xref.global_id_for("subscription", "stripe", sub)
        if gid is None or gid not in orders:
            problems.append(f"Stripe subscription {sub} has no NetSuite sales order")
    counts = {
        "customers": (len(expected_customers), sum(1 for c in customers if c)),
        "sales orders": (len(active_subs), len(orders)),
        "invoices": (len(invoices), len(by_type.get("invoice", {}))),
        "payments": (paid, len(by_type.get("customerpayment", {}))),
        "credit memos": (len(notes), len(by_type.get("creditmemo", {}))),
    }
    for what, (want, have) in counts.items():
        if want != have:
            problems.append(f"{what}: Stripe has {want}, NetSuite has {have}")
    return Comparison(counts, amounts, duplicates, problems)


def _never_active(world: BillingWorld, scenario: Scenario) -> set[str]:
    """Subscriptions whose first payment failed never became active: no contract in the ERP."""
    stripe = world.stripe.v1
    return {
        sub.id
        for customer in scenario.failed_payments
        for sub in stripe.subscriptions.list({"customer": customer, "status": "all"}).data
        if sub.status in ("incomplete", "incomplete_expired")
    }
