"""The billing story's comparison on any stack: what the billing system says the ERP must hold
(read from the billing emulator's own API by its adapter, ``billing_side.py``) against what the
ERP holds (read from the ERP emulator's own API by its adapter, ``erp_side.py``), record by
record and amount by amount. syncwright's cross-reference only names the global ids, which the
ERP files documents under (``ErpSide.key``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING

from syncwright.demo.stack import DISPLAY_NAMES
from syncwright.model.money import CURRENCY_EXPONENTS

if TYPE_CHECKING:
    from syncwright.demo.billing_world import BillingWorld
    from syncwright.demo.erp_side import ErpSide

#: Document kinds the ERP adapters read: invoices, credit memos, sales orders, payments.
INVOICE, CREDIT_MEMO, SALES_ORDER, PAYMENT = "invoice", "creditmemo", "salesorder", "payment"


@dataclass
class Scenario:
    """What a billing driver did, by the billing system's native ids."""

    customers: list[str] = field(default_factory=list)
    subscriptions: list[str] = field(default_factory=list)
    failed_payments: list[str] = field(default_factory=list)
    credit_notes: list[str] = field(default_factory=list)
    cancelled: list[str] = field(default_factory=list)
    upgraded: list[str] = field(default_factory=list)
    renewed: list[str] = field(default_factory=list)
    unmapped: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Billed:
    """One document as the billing system shows it (amounts in minor units)."""

    native_id: str
    total: int
    currency: str
    paid: bool = False


@dataclass
class ExpectedBooks:
    """What the ERP must hold, by the billing system's native ids."""

    customers: list[str]
    #: subscriptions that became contracts (a sales order each)
    subscriptions: list[str]
    invoices: list[Billed]
    credit_notes: list[Billed]


@dataclass(frozen=True)
class ErpDocument:
    """One ERP document: its total and what stays open on it (invoices), in major units."""

    total: Decimal
    unpaid: Decimal = Decimal(0)


@dataclass
class ErpLedger:
    """The ERP's customers and documents by kind, keyed as the ERP files them
    (:meth:`~syncwright.demo.erp_side.ErpSide.key`); records the ERP did not get from
    syncwright (seeded, no key) are left out."""

    #: customer key -> the ERP's record id (what the CRM shows as the ERP id)
    customers: dict[str, str] = field(default_factory=dict)
    documents: dict[str, dict[str, ErpDocument]] = field(default_factory=dict)
    #: (kind, key) -> how many documents carry the key (more than one: a duplicate)
    counts: dict[tuple[str, str], int] = field(default_factory=dict)

    def add(self, kind: str, key: str, document: ErpDocument) -> None:
        self.documents.setdefault(kind, {})[key] = document
        self.counts[kind, key] = self.counts.get((kind, key), 0) + 1

    @property
    def duplicates(self) -> list[str]:
        return [
            f"{n} {kind}s with external id {key}" for (kind, key), n in self.counts.items() if n > 1
        ]


@dataclass
class Comparison:
    """The billing system (expected) against the ERP (actual). ``problems`` empty: in step."""

    counts: dict[str, tuple[int, int]]
    amounts_checked: int
    duplicates: int
    problems: list[str]


def minor(value: Decimal | str | float, currency: str) -> int:
    exponent = CURRENCY_EXPONENTS[currency.upper()]
    return int(Decimal(str(value)) * (10**exponent))


def compare_books(
    world: BillingWorld, billing_vendor: str, expected: ExpectedBooks, erp: ErpSide
) -> Comparison:
    """Every expected record in the ERP once, with the billed amounts; paid invoices settled."""
    assert world.runtime is not None
    xref = world.runtime.xref
    held = erp.ledger()
    problems = list(held.duplicates)
    names = (DISPLAY_NAMES[billing_vendor], DISPLAY_NAMES[erp.vendor])

    def key(entity: str, native_id: str, kind: str) -> str | None:
        gid = xref.global_id_for(entity, billing_vendor, native_id)
        return None if gid is None else erp.key(gid, kind)  # type: ignore[arg-type]

    for customer in expected.customers:
        found = key("account", customer, "customer")
        if found is None or found not in held.customers:
            problems.append(f"{names[0]} customer {customer} has no {names[1]} customer")
    orders = held.documents.get(SALES_ORDER, {})
    for sub in expected.subscriptions:
        if key("subscription", sub, "document") not in orders:
            problems.append(f"{names[0]} subscription {sub} has no {names[1]} sales order")
    amounts = paid = 0
    for entity, kind, billed_docs in (
        ("invoice", INVOICE, expected.invoices),
        ("credit_note", CREDIT_MEMO, expected.credit_notes),
    ):
        for doc in billed_docs:
            record = held.documents.get(kind, {}).get(key(entity, doc.native_id, "document") or "")
            if record is None:
                problems.append(f"{names[0]} {entity} {doc.native_id} has no {names[1]} {kind}")
                continue
            amounts += 1
            if minor(record.total, doc.currency) != doc.total:
                problems.append(
                    f"{entity} {doc.native_id}: {names[0]} {doc.total} != {names[1]} {record.total}"
                )
            if doc.paid:
                paid += 1
                # A credit memo may have settled part of it too: nothing may stay open.
                if minor(record.unpaid, doc.currency) != 0:
                    problems.append(f"paid invoice {doc.native_id} is still open in {names[1]}")
    counts = {
        "customers": (len(expected.customers), len(held.customers)),
        "sales orders": (len(expected.subscriptions), len(orders)),
        "invoices": (len(expected.invoices), len(held.documents.get(INVOICE, {}))),
        "payments": (paid, len(held.documents.get(PAYMENT, {}))),
        "credit memos": (len(expected.credit_notes), len(held.documents.get(CREDIT_MEMO, {}))),
    }
    for what, (want, have) in counts.items():
        if want != have:
            problems.append(f"{what}: {names[0]} has {want}, {names[1]} has {have}")
    return Comparison(counts, amounts, len(held.duplicates), problems)
