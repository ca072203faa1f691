"""Read-only checks against Business Central, for synchronous validation before an order is
committed: ``(ctx, connection, subject) -> {"ok", "reasons", "details"}`` where ``subject`` is
``{"account": <canonical Account JSON>, "deal": <canonical Deal JSON or null>}`` (the contract
of ``syncwright.validation``; see ``connectors/netsuite/checks.py`` for the same on NetSuite).

A "no" is data (``ok: false`` with reasons a CRM user can act on), never an exception; a check
raises only when Business Central cannot answer. Fields read (API v2.0): customer ``number``,
``blocked``, ``balanceDue``, ``creditLimit``, ``currencyCode``, ``taxLiable``, ``taxAreaId``;
item ``number``, ``blocked``; taxArea ``code``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

from syncwright.connectors.business_central._steps import (
    _aliases,
    _connector,
    _parse,
    customer_number,
)
from syncwright.engine import StepContext
from syncwright.errors import BusinessRuleError
from syncwright.model import Account, Deal, Money

__all__ = ["check_credit", "check_customer", "check_products", "check_tax"]

JSON = dict[str, Any]
_BLOCKED_FOR_SALES = ("Invoice", "All")


def _subject(subject: Mapping[str, Any]) -> tuple[Account, Deal | None]:
    if not isinstance(subject, Mapping):
        raise BusinessRuleError(
            "the subject of a check must be an object with an account",
            code="business_central.invalid_canonical",
            remediation='Send {"account": {...canonical Account...}, "deal": {...} or null}.',
        )
    account: Account = _parse(Account, subject.get("account"), "account")
    raw = subject.get("deal")
    deal: Deal | None = _parse(Deal, raw, "deal") if raw is not None else None
    return account, deal


def _answer(problems: Sequence[str], notes: Sequence[str], details: JSON) -> JSON:
    return {"ok": not problems, "reasons": [*problems, *notes], "details": details}


def _name(account: Account) -> str:
    return account.legal_name or account.name


def _deal_total(deal: Deal) -> Money | None:
    if deal.amount is not None:
        return deal.amount
    if deal.lines:
        return Money.total((line.amount for line in deal.lines), deal.currency)
    return None


def check_customer(ctx: StepContext, connection: str, subject: Mapping[str, Any]) -> JSON:
    """Does Business Central have the customer, and may it be sold to (not blocked)?"""
    connector = _connector(ctx, connection)
    account, _deal = _subject(subject)
    number = customer_number(account.global_id)
    customer = connector.client.find("customers", "number", number)
    if customer is None:
        return _answer(
            [
                f"{_name(account)} has no customer in Business Central yet (No. {number}): it is "
                "created when the account syncs; try again once it has."
            ],
            [],
            {"customer_id": None, "number": number},
        )
    blocked = str(customer.get("blocked") or "").strip()
    problems = []
    if blocked in _BLOCKED_FOR_SALES:
        problems.append(
            f"{_name(account)} is blocked ({blocked}) in Business Central: finance must unblock "
            "the customer before orders can be invoiced."
        )
    return _answer(
        problems, [], {"customer_id": customer["id"], "number": number, "blocked": blocked}
    )


def check_credit(ctx: StepContext, connection: str, subject: Mapping[str, Any]) -> JSON:
    """Would this deal take the customer over its credit limit (``creditLimit`` 0: none)?"""
    connector = _connector(ctx, connection)
    account, deal = _subject(subject)
    name = _name(account)
    customer = connector.client.find("customers", "number", customer_number(account.global_id))
    if customer is None:
        return _answer(
            [],
            [f"New customer, no credit history: Business Central has no customer for {name} yet."],
            {"customer_id": None, "new_customer": True},
        )
    balance = Decimal(str(customer.get("balanceDue") or 0))
    limit = Decimal(str(customer.get("creditLimit") or 0))
    currency = str(customer.get("currencyCode") or "")
    order = _deal_total(deal) if deal is not None else None
    notes: list[str] = []
    amount = Decimal(0)
    if order is not None and order.currency == currency:
        amount = order.to_decimal()
    elif order is not None:
        notes.append(f"The deal amount ({order}) was not compared: {name} is billed in {currency}.")
    details = {
        "customer_id": customer["id"],
        "new_customer": False,
        "balance": f"{balance:.2f}",
        "credit_limit": f"{limit:.2f}",
        "currency": currency,
    }
    problems = []
    if limit > 0 and balance + amount > limit:
        problems.append(
            f"{name} owes {balance:,.2f} {currency}; with this deal ({amount:,.2f}) that exceeds "
            f"its Business Central credit limit of {limit:,.2f}: ask finance to raise the limit "
            "or collect payment first."
        )
    return _answer(problems, notes, details)


def check_products(ctx: StepContext, connection: str, subject: Mapping[str, Any]) -> JSON:
    """Is every line of the deal mapped to an item Business Central has and may sell?"""
    connector = _connector(ctx, connection)
    _account, deal = _subject(subject)
    if deal is None or not deal.lines:
        return _answer([], ["No deal lines to check."], {"items": {}})
    problems: list[str] = []
    items: JSON = {}
    for line in deal.lines:
        keys = _aliases(ctx, [("price", line.price_id), ("product", line.product_id)])
        label = line.description or line.product_id
        number = next(
            (connector.options.items[k] for k in keys if k in connector.options.items), None
        )
        number = number or connector.options.default_item
        if number is None:
            problems.append(f"{label}: no Business Central item is mapped (options.items).")
            continue
        item = connector.client.find("items", "number", number)
        items[line.global_id] = number
        if item is None:
            problems.append(f"{label}: item {number} does not exist in Business Central.")
        elif item.get("blocked"):
            problems.append(f"{label}: item {number} is blocked in Business Central.")
    return _answer(problems, [], {"items": items})


def check_tax(ctx: StepContext, connection: str, subject: Mapping[str, Any]) -> JSON:
    """Can Business Central tax the customer: a mapped tax area that exists (or an existing
    customer that is tax liable with one)?"""
    connector = _connector(ctx, connection)
    account, _deal = _subject(subject)
    name = _name(account)
    customer = connector.client.find("customers", "number", customer_number(account.global_id))
    if customer is not None and customer.get("taxLiable"):
        return _answer(
            [], [], {"tax_area_id": customer.get("taxAreaId"), "customer_id": customer["id"]}
        )
    code = connector.options.tax_areas.get(
        account.subsidiary or "default"
    ) or connector.options.tax_areas.get("default")
    if code is None:
        return _answer(
            [
                f"No tax area is mapped for {name}'s legal entity "
                f"{account.subsidiary or '(default)'!r}: "
                f"map it under connections.{connection}.options.tax_areas."
            ],
            [],
            {"tax_area": None},
        )
    area = connector.client.find("taxAreas", "code", code)
    if area is None:
        return _answer(
            [f"Tax area {code} does not exist in Business Central."], [], {"tax_area": code}
        )
    return _answer([], [], {"tax_area": code, "tax_area_id": area["id"]})
