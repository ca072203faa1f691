"""Subscription billing -> ERP, end to end: a realistic Stripe scenario and a comparison of
what NetSuite holds against what Stripe says, record by record and amount by amount."""

from __future__ import annotations

import random
from typing import Any

from syncwright.demo.billing_books import (
    Billed,
    Comparison,
    ExpectedBooks,
    Scenario,
    compare_books,
)
from syncwright.demo.billing_world import BillingWorld
from syncwright.demo.erp_side import NetSuiteErp

__all__ = [
    "UNMAPPED_ENTITY",
    "Comparison",
    "Scenario",
    "compare",
    "drive_scenario",
    "expected_from_stripe",
]

# Customers whose legal entity NetSuite does not know until an operator maps it.
UNMAPPED_ENTITY = "Syncwright Canada Inc"


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


def expected_from_stripe(world: BillingWorld, scenario: Scenario) -> ExpectedBooks:
    """What the ERP must hold, from Stripe's own API: the customers (but those of an unmapped
    legal entity), the subscriptions that became active, open and paid invoices, the credit
    notes."""
    stripe = world.stripe.v1
    skipped_accounts = set(scenario.unmapped)
    customers = [c for c in scenario.customers if c not in skipped_accounts]
    invoices = [
        Billed(inv.id, inv.total, inv.currency, inv.status == "paid" and inv.amount_paid > 0)
        for customer in customers
        for inv in stripe.invoices.list({"customer": customer, "limit": 100}).data
        if inv.status in ("open", "paid")
    ]
    notes = [stripe.credit_notes.retrieve(cn) for cn in scenario.credit_notes]
    never_active = _never_active(world, scenario)  # once: it lists every failed customer
    contracts = [
        s
        for s in scenario.subscriptions
        if s not in never_active
        and stripe.subscriptions.retrieve(s).customer not in skipped_accounts
    ]
    return ExpectedBooks(
        customers=customers,
        subscriptions=contracts,
        invoices=invoices,
        credit_notes=[Billed(note.id, note.total, note.currency) for note in notes],
    )


def compare(world: BillingWorld, scenario: Scenario) -> Comparison:
    """What NetSuite should hold, from Stripe's own API, against NetSuite's SuiteQL."""
    return compare_books(world, "stripe", expected_from_stripe(world, scenario), NetSuiteErp(world))


def _never_active(world: BillingWorld, scenario: Scenario) -> set[str]:
    """Subscriptions whose first payment failed never became active: no contract in the ERP."""
    stripe = world.stripe.v1
    return {
        sub.id
        for customer in scenario.failed_payments
        for sub in stripe.subscriptions.list({"customer": customer, "status": "all"}).data
        if sub.status in ("incomplete", "incomplete_expired")
    }
