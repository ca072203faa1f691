"""``read_receivables``' answer, shared by the billing connectors: one currency is summed, two
are not added up (no exchange rate is invented), the most failed attempts of one invoice count."""

from __future__ import annotations

from syncwright.connectors._base.receivables import receivables


def test_one_currency_is_summed_and_the_worst_invoice_sets_the_attempts() -> None:
    answer = receivables([("usd", 1000, 0), ("USD", 250, 2), ("USD", 5, 1)])
    assert answer == {
        "balance_due": {"amount_minor": 1255, "currency": "USD"},
        "open_invoices": 3,
        "dunning_attempts": 2,
    }


def test_two_currencies_or_none_owe_no_single_balance() -> None:
    mixed = receivables([("USD", 1000, 1), ("EUR", 900, 0)])
    assert mixed["balance_due"] is None and mixed["open_invoices"] == 2
    assert mixed["dunning_attempts"] == 1
    assert receivables([]) == {"balance_due": None, "open_invoices": 0, "dunning_attempts": 0}
