"""The NetSuite mapping as pure functions: amounts, options, bodies."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

import pytest

from syncwright.connectors.netsuite.mapping import (
    NetSuiteOptions,
    amount,
    customer_record,
    dunning_fields,
    expected_tax_minor,
    format_address,
    sales_order_close_body,
    sales_order_record,
)
from syncwright.errors import BusinessRuleError, ConfigError
from syncwright.model import Account, Address, Money, Subscription

OPTIONS = NetSuiteOptions.parse(
    "ns",
    {
        "account": "TSTDRV1",
        "subsidiaries": {"Syncwright UK Ltd": 2},
        "currencies": {"GBP": 2, "JPY": "9"},
        "items": {"price_a": 98},
    },
)


@pytest.mark.parametrize(
    ("minor", "currency", "text"),
    [
        (1234, "USD", "12.34"),
        (5, "USD", "0.05"),
        (-1000, "GBP", "-10.0"),
        (4000, "EUR", "40.0"),
        (1500, "JPY", "1500"),
        (12340, "KWD", "12.34"),
        (99_999_999_999_99, "USD", "99999999999.99"),
    ],
)
def test_amounts_go_out_as_exact_decimals(minor: int, currency: str, text: str) -> None:
    value = amount(Money.of(minor, currency))
    assert json.dumps(value) == text
    assert Decimal(json.dumps(value)) == Money.of(minor, currency).to_decimal()


def test_amounts_netsuite_cannot_hold_are_refused() -> None:
    with pytest.raises(BusinessRuleError) as caught:
        amount(Money.of(12345, "KWD"))  # 12.345: NetSuite keeps two decimals
    assert caught.value.code == "netsuite.amount_precision"
    with pytest.raises(BusinessRuleError) as huge:
        amount(Money.of(10**18 + 1, "USD"))
    assert huge.value.code == "netsuite.amount_range"


def test_options_accept_older_spellings_and_report_every_problem() -> None:
    options = NetSuiteOptions.parse("ns", {"account_id": 1234567, "subsidiary_id": 1})
    assert (options.account, options.default_subsidiary) == ("1234567", "1")
    with pytest.raises(ConfigError) as caught:
        NetSuiteOptions.parse(
            "ns", {"subsidiaries": ["UK"], "currencies": {"USD": None}, "items": {"p": True}}
        )
    assert caught.value.problems == [
        # The connector reads its options through its typed model: the same words as
        # `config validate`.
        "connections.ns.options.subsidiaries: input should be a valid dictionary",
        "connections.ns.options.currencies.USD: must be a NetSuite internal id (a number or a "
        "string)",
        "connections.ns.options.items.p: must be a NetSuite internal id (a number or a string)",
    ]


def test_account_without_legal_entity() -> None:
    account = Account(global_id="a1", name="Acme")
    with pytest.raises(BusinessRuleError) as caught:
        customer_record(account, OPTIONS)
    assert caught.value.code == "netsuite.missing_subsidiary"
    defaulted = NetSuiteOptions.parse("ns", {"default_subsidiary": 1})
    body = customer_record(account, defaulted).body
    assert body == {
        "companyName": "Acme",
        "isPerson": False,
        "subsidiary": {"id": "1"},
        "isInactive": False,
    }


def test_closed_account_is_inactive() -> None:
    account = Account(global_id="a2", name="Gone", subsidiary="Syncwright UK Ltd", status="closed")
    assert customer_record(account, OPTIONS).body["isInactive"] is True


def test_address_text() -> None:
    address = Address(
        line1="1-2-3 Marunouchi",
        line2="Floor 9",
        city="Chiyoda",
        region="Tokyo",
        postal_code="100-0005",
        country="JP",
    )
    assert format_address(address) == "1-2-3 Marunouchi\nFloor 9\nChiyoda Tokyo 100-0005\nJP"


def test_sales_order_body_in_yen() -> None:
    subscription = Subscription.model_validate(
        {
            "global_id": "s1",
            "account_id": "a1",
            "plan_id": "p",
            "status": "active",
            "currency": "JPY",
            "term_start": "2026-04-01",
            "billing_frequency": "annual",
            "items": [
                {
                    "global_id": "i1",
                    "price_id": "price_a",
                    "quantity": 4,
                    "unit_amount": {"amount_minor": 1250, "currency": "JPY"},
                }
            ],
        }
    )
    record = sales_order_record(subscription, OPTIONS, customer_id="1001")
    assert record.record_type == "salesOrder"
    assert record.external_id == "s1"
    assert record.body["item"] == {
        "items": [{"item": {"id": "98"}, "quantity": 4, "rate": 1250, "amount": 5000}]
    }
    assert "endDate" not in record.body  # evergreen
    assert record.body["currency"] == {"id": "9"}


def test_tax_is_rounded_per_line_half_up() -> None:
    assert expected_tax_minor([3702], Decimal(20)) == 740
    assert expected_tax_minor([1, 1, 1], Decimal("7.25")) == 0
    assert expected_tax_minor([1000, -100], Decimal(19)) == 190 - 19
    assert expected_tax_minor([250], Decimal(19)) == 48  # 47.5 -> 48


def test_close_and_dunning_bodies() -> None:
    assert sales_order_close_body(dt.date(2026, 6, 30), [1, 2]) == {
        "item": {"items": [{"line": 1, "isClosed": True}, {"line": 2, "isClosed": True}]},
        "endDate": "2026-06-30",
    }
    fields = dunning_fields(3, "x" * 400)
    assert fields["custbody_dunning_attempts"] == 3
    assert len(fields["custbody_dunning_status"]) == 300
