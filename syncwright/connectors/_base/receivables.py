"""What a customer owes, as every billing connector's ``read_receivables`` answers it (the
lifecycle workflows read it: ``syncwright/workflows/lifecycle_plan.py``)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from syncwright.model import Money

__all__ = ["receivables"]


def receivables(
    open_invoices: Iterable[tuple[str, int, int]],
    money: Callable[[int, str], Money] = Money.of,
) -> dict[str, Any]:
    """``{"balance_due": Money | None, "open_invoices": n, "dunning_attempts": n}`` from the
    customer's unpaid invoices as ``(currency, amount still due in minor units, failed
    collection attempts)``; ``money`` makes the vendor's minor units canonical Money.

    ``balance_due`` is ``None`` when nothing is open or the invoices are in more than one
    currency (a CRM currency field holds one; adding them would invent an exchange rate).
    ``dunning_attempts`` is the most failed attempts of one invoice."""
    totals: dict[str, int] = {}
    count = attempts = 0
    for currency, due, failed in open_invoices:
        code = currency.upper()
        totals[code] = totals.get(code, 0) + due
        attempts = max(attempts, failed)
        count += 1
    owed: Money | None = None
    if len(totals) == 1:
        [(code, minor)] = totals.items()
        owed = money(minor, code)
    return {
        "balance_due": owed.model_dump(mode="json") if owed is not None else None,
        "open_invoices": count,
        "dunning_attempts": attempts,
    }
