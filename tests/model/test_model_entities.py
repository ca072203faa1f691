"""Canonical entities: they validate themselves and stay vendor-neutral."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest
from pydantic import BaseModel, ValidationError

import syncwright.model as model
from syncwright.model import (
    Account,
    BillingFrequency,
    BillingLine,
    Contact,
    Contract,
    CreditNote,
    Deal,
    Entitlement,
    Entity,
    Invoice,
    InvoiceStatus,
    LineItem,
    Money,
    Order,
    Payment,
    Price,
    SlaPolicy,
    Subscription,
    SubscriptionStatus,
    SupportCase,
)

NOW = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)


def usd(cents: int) -> Money:
    return Money.of(cents, "USD")


def subscription(**overrides: Any) -> Subscription:
    fields: dict[str, Any] = {
        "global_id": "sub_1",
        "account_id": "acc_1",
        "plan_id": "prod_pro",
        "status": "active",
        "currency": "USD",
        "term_start": date(2024, 1, 1),
        "term_end": date(2025, 1, 1),
        "term_length_months": 12,
        "billing_frequency": "monthly",
        "items": [
            {"global_id": "si_1", "price_id": "price_1", "quantity": 3, "unit_amount": usd(1000)}
        ],
    }
    return Subscription.model_validate({**fields, **overrides})


def invoice(**overrides: Any) -> Invoice:
    fields: dict[str, Any] = {
        "global_id": "inv_1",
        "account_id": "acc_1",
        "status": "open",
        "currency": "USD",
        "number": "INV-0001",
        "lines": [
            {"global_id": "il_1", "description": "Pro x3", "quantity": 3, "amount": usd(3000)},
            {"global_id": "il_2", "description": "Setup", "amount": usd(500)},
        ],
        "subtotal": usd(3500),
        "discount_total": usd(500),
        "tax_total": usd(300),
        "total": usd(3300),
        "amount_paid": usd(0),
        "issue_date": date(2024, 5, 1),
        "due_date": date(2024, 5, 31),
    }
    return Invoice.model_validate({**fields, **overrides})


def errors_of(exc: pytest.ExceptionInfo[ValidationError]) -> str:
    return str(exc.value)


# -- every entity --------------------------------------------------------------------------------


def _entity_classes() -> list[type[BaseModel]]:
    return [
        obj
        for name in model.__all__
        if isinstance(obj := getattr(model, name), type)
        and issubclass(obj, Entity)
        and obj is not Entity
    ]


@pytest.mark.parametrize("cls", _entity_classes(), ids=lambda c: c.__name__)
def test_entities_are_vendor_neutral_frozen_and_strict(cls: type[BaseModel]) -> None:
    # Native ids live in the cross-reference store, never on the entity.
    assert "global_id" in cls.model_fields
    assert not any("native" in name for name in cls.model_fields)
    assert cls.model_config.get("frozen") is True
    assert cls.model_config.get("extra") == "forbid"


def test_unknown_field_is_refused() -> None:
    with pytest.raises(ValidationError, match="native_ids"):
        Account(global_id="acc_1", name="Acme", native_ids={"stripe": "cus_1"})  # type: ignore[call-arg]


def test_entities_are_immutable() -> None:
    acc = Account(global_id="acc_1", name="Acme")
    with pytest.raises(ValidationError):
        acc.name = "Other"  # type: ignore[misc]
    assert acc.model_copy(update={"name": "Other"}).name == "Other"


def test_global_id_must_not_be_blank() -> None:
    with pytest.raises(ValidationError, match="global_id"):
        Account(global_id="  ", name="Acme")


# -- party ---------------------------------------------------------------------------------------


def test_account_with_hierarchy_addresses_and_tax() -> None:
    acc = Account.model_validate(
        {
            "global_id": "acc_2",
            "name": "Acme GmbH",
            "parent_account_id": "acc_1",
            "bill_to": {"line1": "Hauptstr. 1", "city": "Berlin", "country": "DE"},
            "ship_to": {"line1": "1 Main St", "city": "SF", "region": "CA", "country": "US"},
            "tax_ids": [{"kind": "eu_vat", "value": "DE123456789", "country": "DE"}],
            "tax_nexus": [{"country": "US", "region": "US-CA"}, {"country": "DE"}],
            "subsidiary": "Acme Inc. (EU)",
            "currency": "EUR",
            "status": "active",
            "credit_status": "hold",
        }
    )
    assert acc.tax_ids[0].kind == "eu_vat"
    assert acc.credit_status is model.CreditStatus.HOLD
    assert Account.model_validate_json(acc.model_dump_json()) == acc


def test_account_cannot_be_its_own_parent() -> None:
    with pytest.raises(ValidationError, match="own parent"):
        Account(global_id="acc_1", name="Acme", parent_account_id="acc_1")


@pytest.mark.parametrize(
    ("field", "value", "fragment"),
    [
        ("currency", "usd", "did you mean 'USD'"),
        ("currency", "ABC", "unknown ISO 4217 currency code 'ABC'"),
        ("status", "deleted", "status"),
        ("bill_to", {"line1": "x", "city": "y", "country": "Germany"}, "bill_to.country"),
        ("tax_nexus", [{"country": "US", "region": "California"}], "tax_nexus.0.region"),
        ("billing_email", "not-an-email", "billing_email"),
    ],
)
def test_account_validation_errors(field: str, value: Any, fragment: str) -> None:
    with pytest.raises(ValidationError) as exc:
        Account.model_validate({"global_id": "acc_1", "name": "Acme", field: value})
    assert fragment in errors_of(exc)


def test_contact_needs_an_email_or_a_name() -> None:
    assert Contact(global_id="c1", email="ada@example.com").email == "ada@example.com"
    assert Contact(global_id="c2", last_name="Lovelace").account_id is None
    with pytest.raises(ValidationError, match="email or a name"):
        Contact(global_id="c3", phone="+1 555 0100")


# -- catalog -------------------------------------------------------------------------------------


def test_recurring_and_one_time_prices() -> None:
    monthly = Price(
        global_id="p1",
        product_id="prod",
        unit_amount=usd(1000),
        recurring_interval="month",
        billing_frequency=BillingFrequency.QUARTERLY,
    )
    assert monthly.currency == "USD"
    assert monthly.billing_frequency.months == 3
    setup = Price(global_id="p2", product_id="prod", unit_amount=usd(5000))
    assert setup.billing_frequency is BillingFrequency.ONE_TIME
    assert setup.billing_frequency.months is None


@pytest.mark.parametrize(
    ("fields", "fragment"),
    [
        ({"billing_frequency": "monthly"}, "one-time price"),
        ({"recurring_interval": "month"}, "recurring billing_frequency"),
        ({"interval_count": 3}, "interval_count"),
        ({"unit_amount": {"amount_minor": -1, "currency": "USD"}}, "must not be negative"),
        ({"unit_amount": {"amount_minor": 9.99, "currency": "USD"}}, "floats are never"),
    ],
)
def test_price_consistency(fields: dict[str, Any], fragment: str) -> None:
    base = {"global_id": "p", "product_id": "prod", "unit_amount": usd(100)}
    with pytest.raises(ValidationError, match=fragment):
        Price.model_validate({**base, **fields})


# -- subscription --------------------------------------------------------------------------------


def test_subscription_statuses_and_amount() -> None:
    assert {s.value for s in SubscriptionStatus} >= {
        "trialing",
        "active",
        "past_due",
        "cancelled",
        "paused",
    }
    sub = subscription(
        invoice_schedule={"frequency": "monthly", "anchor_date": date(2024, 1, 1), "net_days": 30}
    )
    assert sub.recurring_amount == usd(3000)
    assert sub.invoice_schedule is not None and sub.invoice_schedule.net_days == 30


def test_subscription_items_in_another_currency_are_refused() -> None:
    with pytest.raises(ValidationError) as exc:
        subscription(currency="EUR")
    text = errors_of(exc)
    assert "items[0].unit_amount is in USD but the document currency is EUR" in text


@pytest.mark.parametrize(
    ("overrides", "fragment"),
    [
        ({"term_end": date(2023, 12, 31)}, "must be after term_start"),
        ({"billing_frequency": "one_time"}, "recurring billing_frequency"),
        ({"items": []}, "at least 1 item"),
        ({"status": "canceled"}, "status"),
        ({"cancelled_at": datetime(2024, 5, 1, 12, 0)}, "timezone"),
    ],
)
def test_subscription_validation_errors(overrides: dict[str, Any], fragment: str) -> None:
    with pytest.raises(ValidationError) as exc:
        subscription(**overrides)
    assert fragment in errors_of(exc)


def test_subscription_item_ids_unique() -> None:
    item = {"global_id": "si_1", "price_id": "p", "quantity": 1, "unit_amount": usd(1)}
    with pytest.raises(ValidationError, match="unique"):
        subscription(items=[item, item])


# -- commerce ------------------------------------------------------------------------------------


def line(global_id: str = "l1", cents: int = 1000, quantity: int = 2) -> LineItem:
    return LineItem(
        global_id=global_id, product_id="prod", quantity=quantity, unit_amount=usd(cents)
    )


def test_order_subtotal_and_rules() -> None:
    order = Order(
        global_id="o1",
        account_id="acc_1",
        status="placed",
        currency="USD",
        placed_at=NOW,
        lines=(line("l1"), line("l2", 500, 1)),
    )
    assert order.subtotal == usd(2500)
    with pytest.raises(ValidationError, match="needs placed_at"):
        Order(global_id="o1", account_id="a", status="placed", currency="USD", lines=(line(),))
    with pytest.raises(ValidationError, match="document currency is EUR"):
        Order(global_id="o1", account_id="a", status="draft", currency="EUR", lines=(line(),))
    with pytest.raises(ValidationError, match="unique"):
        Order(
            global_id="o1",
            account_id="a",
            status="draft",
            currency="USD",
            lines=(line("x"), line("x")),
        )


def test_line_quantity_must_be_positive() -> None:
    with pytest.raises(ValidationError, match="quantity"):
        line(quantity=0)


def test_deal_and_contract_currency() -> None:
    deal = Deal(
        global_id="d1",
        account_id="a",
        name="Acme renewal",
        stage="closed_won",
        currency="USD",
        amount=usd(100),
        lines=(line(),),
    )
    assert deal.lines[0].amount == usd(2000)
    with pytest.raises(ValidationError, match="amount is in USD"):
        Deal(global_id="d1", account_id="a", name="x", stage="open", currency="EUR", amount=usd(1))
    with pytest.raises(ValidationError, match="end_date"):
        Contract(
            global_id="k1",
            account_id="a",
            status="active",
            currency="USD",
            start_date=date(2024, 1, 1),
            end_date=date(2023, 1, 1),
        )


# -- billing -------------------------------------------------------------------------------------


def test_invoice_totals_add_up() -> None:
    inv = invoice()
    assert inv.total == usd(3300)
    assert inv.amount_remaining == usd(3300)
    assert inv.status is InvoiceStatus.OPEN


def test_tax_inclusive_invoice() -> None:
    inv = invoice(tax_inclusive=True, total=usd(3000))
    assert inv.total == usd(3000)


@pytest.mark.parametrize(
    ("overrides", "fragment"),
    [
        ({"subtotal": usd(3400)}, "does not equal the sum of line amounts"),
        ({"total": usd(3800)}, "does not equal subtotal - discount_total + tax_total"),
        ({"tax_total": Money.of(300, "EUR")}, "tax_total is in EUR"),
        ({"status": "paid", "issue_date": None}, "needs issue_date"),
        ({"due_date": date(2024, 4, 1)}, "before issue_date"),
        ({"amount_paid": usd(-1)}, "must not be negative"),
        ({"status": "refunded"}, "status"),
        ({"total": {"amount_minor": 33.0, "currency": "USD"}}, "floats are never"),
    ],
)
def test_invoice_validation_errors(overrides: dict[str, Any], fragment: str) -> None:
    with pytest.raises(ValidationError) as exc:
        invoice(**overrides)
    assert fragment in errors_of(exc)


def test_draft_invoice_needs_no_number_or_date() -> None:
    draft = invoice(status="draft", number=None, issue_date=None, due_date=None)
    assert draft.number is None


def test_billing_line_currency() -> None:
    with pytest.raises(ValidationError, match="unit_amount is in EUR"):
        BillingLine(global_id="l", description="x", unit_amount=Money.of(1, "EUR"), amount=usd(1))


def test_payment_rules() -> None:
    payment = Payment.model_validate(
        {
            "global_id": "pay_1",
            "account_id": "acc_1",
            "amount": usd(3300),
            "status": "succeeded",
            "method": "card",
            "received_at": NOW,
            "applied_to": [{"invoice_id": "inv_1", "amount": usd(3300)}],
        }
    )
    assert payment.applied_to[0].invoice_id == "inv_1"
    with pytest.raises(ValidationError, match="exceed the payment amount"):
        payment.model_validate(
            {**payment.model_dump(), "applied_to": [{"invoice_id": "i", "amount": usd(9999)}]}
        )
    with pytest.raises(ValidationError, match="must be positive"):
        payment.model_validate({**payment.model_dump(), "amount": usd(0), "applied_to": []})


def test_credit_note_is_positive_and_adds_up() -> None:
    fields: dict[str, Any] = {
        "global_id": "cn_1",
        "account_id": "acc_1",
        "invoice_id": "inv_1",
        "currency": "USD",
        "reason": "goodwill",
        "lines": [{"global_id": "cl_1", "description": "Credit", "amount": usd(500)}],
        "subtotal": usd(500),
        "discount_total": usd(0),
        "tax_total": usd(0),
        "total": usd(500),
        "issue_date": date(2024, 5, 2),
    }
    assert CreditNote.model_validate(fields).total == usd(500)
    negative = {
        **fields,
        "lines": [{"global_id": "cl_1", "description": "Credit", "amount": usd(-500)}],
        "subtotal": usd(-500),
        "total": usd(-500),
    }
    with pytest.raises(ValidationError, match="must be positive"):
        CreditNote.model_validate(negative)


# -- support -------------------------------------------------------------------------------------


def test_entitlement_with_sla_policy() -> None:
    ent = Entitlement.model_validate(
        {
            "global_id": "ent_1",
            "account_id": "acc_1",
            "subscription_id": "sub_1",
            "tier": "premium",
            "status": "active",
            "start_date": date(2024, 1, 1),
            "sla_policy": {
                "name": "Premium 24/7",
                "business_hours_only": False,
                "targets": [
                    {"priority": "urgent", "first_response_minutes": 30},
                    {"priority": "high", "first_response_minutes": 120},
                ],
            },
        }
    )
    assert ent.sla_policy is not None and len(ent.sla_policy.targets) == 2
    with pytest.raises(ValidationError, match="more than one target per priority"):
        SlaPolicy.model_validate(
            {
                "name": "dup",
                "targets": [
                    {"priority": "high", "first_response_minutes": 1},
                    {"priority": "high", "first_response_minutes": 2},
                ],
            }
        )


def test_support_case() -> None:
    case = SupportCase(
        global_id="case_1",
        subject="Cannot log in",
        status="open",
        priority="urgent",
        opened_at=NOW,
    )
    assert case.channel.value == "other"
    with pytest.raises(ValidationError, match="solved_at is before opened_at"):
        case.model_validate({**case.model_dump(), "solved_at": datetime(2024, 4, 1, tzinfo=UTC)})
    with pytest.raises(ValidationError, match="subject"):
        case.model_validate({**case.model_dump(), "subject": "   "})
