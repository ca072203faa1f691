"""Read-only checks against NetSuite, for synchronous validation before an order is committed.

DESIGN.md section 1: events carry durable work; questions that must be answered *now* (may this
customer buy on credit, are these products sellable, can we tax this) are synchronous reads of
the ERP, the financial truth. Each check is a connector action
``(ctx, connection, subject) -> {"ok": bool, "reasons": [...], "details": {...}}`` where
``subject`` is ``{"account": <canonical Account JSON>, "deal": <canonical Deal JSON or null>}``.

A "no" is data: it comes back as ``ok: false`` with reasons a CRM user can act on, never as an
exception. Reasons on an ``ok: true`` answer are notes (e.g. a new customer has no credit
history). A check raises only when NetSuite cannot answer: the client's classified errors
(``TransientError`` for timeouts, 5xx and 429; ``AuthError``; ...), or ``BusinessRuleError``
``netsuite.invalid_canonical`` for a subject that is not canonical JSON.

NetSuite fields read (Oracle REST API Browser, ``customer``: ``balance``, ``creditLimit``,
``creditHoldOverride``, ``isInactive``, ``subsidiary``, ``currency``; ``subsidiary``:
``country``; SuiteQL tables ``item`` and ``salestaxitem``). The customer's Hold field
(``creditHoldOverride``, NetSuite help "Setting Credit Limits and Holds"): ``AUTO`` puts a
customer on hold once its balance exceeds its credit limit, ``ON`` always, ``OFF`` never.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from syncwright.connectors.netsuite.mapping import NetSuiteOptions, parse_canonical
from syncwright.connectors.netsuite.outbound import _connector, _decimal, _item_aliases, _ref_id
from syncwright.engine import StepContext
from syncwright.errors import BusinessRuleError
from syncwright.model import Account, Deal, LineItem, Money

if TYPE_CHECKING:
    from syncwright.connectors.netsuite.connector import NetSuiteConnector

__all__ = ["check_credit", "check_customer", "check_products", "check_tax"]

JSON = dict[str, Any]

_HOLD_AUTO, _HOLD_ON, _HOLD_OFF = "AUTO", "ON", "OFF"
# SuiteQL; every literal put into them goes through ``_quoted``.
_ITEM_QUERY = "SELECT id, itemid, displayname, isinactive FROM item WHERE id IN ({ids})"
_TAX_CODE_QUERY = "SELECT id, itemid, rate, country, isinactive FROM salestaxitem WHERE {where}"


# -- plumbing --------------------------------------------------------------------------------


def _subject(subject: Mapping[str, Any]) -> tuple[Account, Deal | None]:
    if not isinstance(subject, Mapping):
        raise BusinessRuleError(
            "the subject of a check must be an object with an account",
            code="netsuite.invalid_canonical",
            remediation='Send {"account": {...canonical Account...}, "deal": {...} or null}.',
        )
    account = parse_canonical(Account, subject.get("account"), "account")
    raw_deal = subject.get("deal")
    deal = parse_canonical(Deal, raw_deal, "deal") if raw_deal is not None else None
    return account, deal


def _answer(problems: Sequence[str], notes: Sequence[str], details: JSON) -> JSON:
    """``ok`` is false exactly when there is a problem; notes ride along either way."""
    return {"ok": not problems, "reasons": [*problems, *notes], "details": details}


def _name(account: Account) -> str:
    return account.legal_name or account.name


def _ref_name(value: Any) -> str | None:
    if isinstance(value, Mapping):
        name = value.get("refName")
        return str(name) if name is not None else None
    return None


def _select(value: Any) -> str | None:
    """A NetSuite list (select) field: ``{"id": "ON", "refName": "On"}`` or a bare ``"ON"``."""
    found = _ref_id(value)
    return found.upper() if found else None


def _flag(value: Any) -> bool:
    """NetSuite booleans: JSON true/false on records, ``"T"``/``"F"`` in SuiteQL rows."""
    return value is True or (isinstance(value, str) and value.upper() in ("T", "TRUE"))


def _amount(value: Decimal, currency: str) -> str:
    return f"{value:,.2f} {currency}"


def _plain(value: Decimal | None) -> str | None:
    """An amount as a decimal string with NetSuite's two decimals (JSON-safe, exact)."""
    return None if value is None else f"{value:.2f}"


def _quoted(values: Iterable[str]) -> str:
    """SuiteQL string literals (internal ids come from config: never trust them to be digits)."""
    return ", ".join("'" + value.replace("'", "''") + "'" for value in values)


def _iso_currency(options: NetSuiteOptions, internal_id: str | None) -> str | None:
    """The ISO code a currency internal id is mapped from (``options.currencies``)."""
    for code, mapped in options.currencies.items():
        if mapped == internal_id:
            return code.upper()
    return None


def _expected_subsidiary(
    connector: NetSuiteConnector, account: Account, problems: list[str]
) -> str | None:
    try:
        return connector.options.subsidiary_id(account.subsidiary, account=account.global_id)
    except BusinessRuleError:
        where = connector.options.where("subsidiaries")
        if account.subsidiary is None:
            problems.append(
                f"{_name(account)} has no legal entity (selling company) set and the "
                "integration has no default NetSuite subsidiary: set the legal entity on the "
                f"account, or ask the integration admin to set "
                f"{connector.options.where('default_subsidiary')}."
            )
        else:
            problems.append(
                f"Legal entity {account.subsidiary!r} is not linked to a NetSuite subsidiary, so "
                f"NetSuite cannot book orders for it: ask the integration admin to map it under "
                f"{where}."
            )
        return None


def _deal_total(deal: Deal) -> Money | None:
    if deal.amount is not None:
        return deal.amount
    if deal.lines:
        return Money.total((line.amount for line in deal.lines), deal.currency)
    return None


# -- credit ----------------------------------------------------------------------------------


def check_credit(ctx: StepContext, connection: str, subject: Mapping[str, Any]) -> JSON:
    """Is the customer on credit hold, or over its credit limit (with this deal)?

    The customer is read by external id (the account's global id). An account NetSuite does
    not know yet answers ok with the note "new customer, no credit history": it cannot be on
    hold, and the first order creates the customer. Hold ``ON`` is a no; ``AUTO`` (or unset)
    is a no when the balance -- plus the deal's amount, when it is in the customer's currency
    -- exceeds the credit limit; ``OFF`` never holds (an excess is reported as a note).
    """
    connector = _connector(ctx, connection)
    account, deal = _subject(subject)
    name = _name(account)
    # Oracle: "Using External IDs" -- GET customer/eid:<global id>.
    customer = connector.client.get_by_external_id("customer", account.global_id)
    if customer is None:
        return _answer(
            [],
            [
                f"New customer, no credit history: NetSuite has no customer for {name} yet, so "
                "there is no credit hold or credit limit to check."
            ],
            {"customer_id": None, "new_customer": True},
        )
    problems: list[str] = []
    notes: list[str] = []
    hold = _select(customer.get("creditHoldOverride")) or _HOLD_AUTO
    balance = _decimal(customer.get("balance")) or Decimal(0)
    limit = _decimal(customer.get("creditLimit"))
    currency_id = _ref_id(customer.get("currency"))
    currency = _iso_currency(connector.options, currency_id)
    shown = currency or _ref_name(customer.get("currency")) or ""
    order = _deal_total(deal) if deal is not None else None
    order_amount: Decimal | None = None
    if order is not None and not order.is_zero:
        if currency is not None and order.currency == currency:
            order_amount = order.to_decimal()
        else:
            notes.append(
                f"The deal amount ({order}) was not compared with the credit limit: "
                f"{name}'s NetSuite balance is in {shown or 'another currency'}."
            )
    exposure = balance + (order_amount or Decimal(0))
    details: JSON = {
        "customer_id": str(customer.get("id")),
        "new_customer": False,
        "credit_hold": hold,
        "balance": _plain(balance),
        "credit_limit": _plain(limit),
        "currency": currency,
        "order_amount": _plain(order_amount),
        "available_credit": _plain(limit - balance if limit is not None else None),
    }
    if hold == _HOLD_ON:
        problems.append(
            f"{name} is on credit hold in NetSuite: finance must release the hold before new "
            "orders can be booked."
        )
    elif limit is not None and exposure > limit:
        if balance > limit:
            text = (
                f"{name} owes {_amount(balance, shown)}, over its NetSuite credit limit of "
                f"{_amount(limit, shown)}"
            )
        else:
            text = (
                f"This deal ({_amount(order_amount or Decimal(0), shown)}) would take {name}'s "
                f"balance of {_amount(balance, shown)} over its NetSuite credit limit of "
                f"{_amount(limit, shown)} (available credit {_amount(limit - balance, shown)})"
            )
        if hold == _HOLD_OFF:
            notes.append(f"{text}; NetSuite's credit hold is overridden (Off) for this customer.")
        else:
            problems.append(f"{text}: ask finance to raise the limit or collect payment first.")
    return _answer(problems, notes, details)


# -- customer --------------------------------------------------------------------------------


def check_customer(ctx: StepContext, connection: str, subject: Mapping[str, Any]) -> JSON:
    """Does the customer exist in NetSuite, is it active, and is it booked under the
    subsidiary its legal entity maps to? A customer NetSuite does not have yet is a no: it
    appears once the account has synced."""
    connector = _connector(ctx, connection)
    account, _deal = _subject(subject)
    name = _name(account)
    problems: list[str] = []
    expected = _expected_subsidiary(connector, account, problems)
    customer = connector.client.get_by_external_id("customer", account.global_id)
    details: JSON = {"customer_id": None, "expected_subsidiary": expected}
    if customer is None:
        problems.insert(
            0,
            f"{name} has no customer record in NetSuite yet (external ID {account.global_id}): "
            "it is created when the account syncs to NetSuite; try again once it has.",
        )
        return _answer(problems, [], details)
    subsidiary = _ref_id(customer.get("subsidiary"))
    subsidiary_name = _ref_name(customer.get("subsidiary")) or subsidiary
    inactive = _flag(customer.get("isInactive"))
    details.update(
        customer_id=str(customer.get("id")),
        entity_id=customer.get("entityId"),
        inactive=inactive,
        subsidiary={"id": subsidiary, "name": subsidiary_name},
    )
    if inactive:
        problems.insert(
            0,
            f"{name}'s customer record in NetSuite ({customer.get('entityId')}) is inactive: "
            "finance must reactivate it before orders can be booked.",
        )
    if expected is not None and subsidiary != expected:
        problems.append(
            f"{name} is booked under subsidiary {subsidiary_name!r} in NetSuite, but its legal "
            f"entity {account.subsidiary or '(default)'!r} maps to subsidiary {expected}: "
            "correct the account's legal entity, or ask finance to move the customer."
        )
    return _answer(problems, [], details)


# -- products --------------------------------------------------------------------------------


def _line_label(line: LineItem) -> str:
    ids = f"product {line.product_id}" + (f", price {line.price_id}" if line.price_id else "")
    return f"Line {line.description!r} ({ids})" if line.description else f"The line of {ids}"


def check_products(ctx: StepContext, connection: str, subject: Mapping[str, Any]) -> JSON:
    """Does every deal line map to an active NetSuite item (``options.items``, keyed by the
    canonical price or product id or their native ids elsewhere, else ``default_item``)?"""
    connector = _connector(ctx, connection)
    options = connector.options
    _account, deal = _subject(subject)
    if deal is None or not deal.lines:
        return _answer([], ["The deal has no product lines to check."], {"lines": []})
    aliases = _item_aliases(
        ctx,
        [
            key
            for line in deal.lines
            for key in (("price", line.price_id), ("product", line.product_id))
        ],
    )
    problems: list[str] = []
    lines: list[JSON] = []
    for line in deal.lines:
        keys: list[str] = []
        for key in (line.price_id, line.product_id):
            if key:
                keys += [key, *aliases.get(key, ())]
        entry: JSON = {"line": line.global_id, "item_id": None, "via": None}
        lines.append(entry)
        try:
            entry["item_id"] = options.item_id(keys, what=f"deal line {line.global_id}")
        except BusinessRuleError:
            problems.append(
                f"{_line_label(line)} is not set up for NetSuite (no NetSuite item is mapped "
                f"to it): ask the integration admin to map it under {options.where('items')}."
            )
            continue
        entry["via"] = next((key for key in keys if key in options.items), "default_item")
    wanted = sorted({str(entry["item_id"]) for entry in lines if entry["item_id"]})
    items: dict[str, JSON] = {}
    if wanted:
        # SuiteQL ``item`` spans every item type (service, non-inventory, ...) in one query.
        query = _ITEM_QUERY.format(ids=_quoted(wanted))
        items = {str(row.get("id")): row for row in connector.client.suiteql(query)}
    for line, entry in zip(deal.lines, lines, strict=True):
        item_id = entry["item_id"]
        if item_id is None:
            continue
        row = items.get(str(item_id))
        if row is None:
            entry["exists"] = False
            problems.append(
                f"{_line_label(line)} maps to NetSuite item {item_id}, which does not exist in "
                f"NetSuite: ask the integration admin to fix {options.where('items')}."
            )
            continue
        shown = row.get("displayname") or row.get("itemid") or item_id
        entry.update(exists=True, item=row.get("itemid"), inactive=_flag(row.get("isinactive")))
        if entry["inactive"]:
            problems.append(
                f"{_line_label(line)} maps to NetSuite item {shown!r}, which is inactive and "
                "cannot be sold: ask finance to reactivate it, or choose another product."
            )
    return _answer(problems, [], {"lines": lines})


# -- tax -------------------------------------------------------------------------------------


def check_tax(ctx: StepContext, connection: str, subject: Mapping[str, Any]) -> JSON:
    """Can NetSuite tax this account's orders?

    The legal entity must map to a NetSuite subsidiary; each tax jurisdiction of the account
    (its tax nexus countries, else its billing country) must be the subsidiary's country (a
    subsidiary can only use tax codes of its own country); when NetSuite has tax codes for that
    country the subsidiary charges tax, so ``options.tax_codes`` must give it an active code of
    that country; and the account's (and deal's) currency must be mapped.
    """
    connector = _connector(ctx, connection)
    options = connector.options
    account, deal = _subject(subject)
    name = _name(account)
    problems: list[str] = []
    details: JSON = {"subsidiary": None, "jurisdictions": [], "tax_code": None}
    for code in dict.fromkeys(c for c in (account.currency, deal and deal.currency) if c):
        try:
            options.currency_id(code, what=f"account {account.global_id}")
        except BusinessRuleError:
            problems.append(
                f"{code} is not set up as a NetSuite currency for this integration: ask the "
                f"integration admin to map it under {options.where('currencies')}."
            )
    subsidiary_id = _expected_subsidiary(connector, account, problems)
    if subsidiary_id is None:
        return _answer(problems, [], details)
    try:
        subsidiary = connector.client.get("subsidiary", subsidiary_id)
    except BusinessRuleError as exc:
        if exc.code != "netsuite.NONEXISTENT_ID":
            raise
        problems.append(
            f"Legal entity {account.subsidiary or '(default)'!r} is mapped to NetSuite "
            f"subsidiary {subsidiary_id}, which does not exist in NetSuite: ask the integration "
            f"admin to fix {options.where('subsidiaries')}."
        )
        return _answer(problems, [], details)
    country = _ref_id(subsidiary.get("country"))
    subsidiary_name = str(subsidiary.get("name") or subsidiary_id)
    details["subsidiary"] = {"id": subsidiary_id, "name": subsidiary_name, "country": country}
    if _flag(subsidiary.get("isInactive")):
        problems.append(f"NetSuite subsidiary {subsidiary_name!r} is inactive.")
    nexus = [n.country for n in account.tax_nexus]
    jurisdictions = list(
        dict.fromkeys(nexus or ([account.bill_to.country] if account.bill_to else []))
    )
    details["jurisdictions"] = jurisdictions
    if not jurisdictions:
        problems.append(
            f"{name} has no billing address or tax nexus, so NetSuite cannot tell where to "
            "charge tax: add the billing address in the CRM."
        )
    for other in (c for c in jurisdictions if c != country):
        what = "has tax nexus in" if nexus else "is billed in"
        problems.append(
            f"{name} {what} {other}, but {subsidiary_name} (registered in {country}) can only "
            f"charge {country} tax in NetSuite: book the deal under a legal entity registered in "
            f"{other}, or ask finance."
        )
    mapped = options.tax_code_id(subsidiary_id)
    # Oracle SuiteQL ``salestaxitem``: the tax codes of the subsidiary's country, and the
    # mapped one whatever its country (so a wrong mapping is reported, not missed).
    where = f"country = {_quoted([country or ''])}"
    if mapped is not None:
        where += f" OR id = {_quoted([mapped])}"
    rows = list(connector.client.suiteql(_TAX_CODE_QUERY.format(where=where)))
    requires_tax = any(r.get("country") == country and not _flag(r.get("isinactive")) for r in rows)
    details["requires_tax"] = requires_tax
    if mapped is None:
        if requires_tax:
            problems.append(
                f"No NetSuite tax code is set up for {subsidiary_name} ({country}), so NetSuite "
                f"cannot tax its orders: ask the integration admin to map one under "
                f"{options.where('tax_codes')}."
            )
        return _answer(problems, [], details)
    row = next((r for r in rows if str(r.get("id")) == mapped), None)
    if row is None:
        problems.append(
            f"The tax code set up for {subsidiary_name} (NetSuite id {mapped}) does not exist in "
            f"NetSuite: ask the integration admin to fix {options.where('tax_codes')}."
        )
        return _answer(problems, [], details)
    code_name = row.get("itemid") or mapped
    details["tax_code"] = {"id": mapped, "name": code_name, "rate": row.get("rate")}
    if _flag(row.get("isinactive")):
        problems.append(f"NetSuite tax code {code_name!r} for {subsidiary_name} is inactive.")
    code_country = row.get("country")
    if code_country and code_country != country:
        problems.append(
            f"NetSuite tax code {code_name!r} is for {code_country}, not {country} where "
            f"{subsidiary_name} is registered: ask the integration admin to fix "
            f"{options.where('tax_codes')}."
        )
    return _answer(problems, [], details)
