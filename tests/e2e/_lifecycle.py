"""What the lifecycle end-to-end tests read from the four emulators' own records: Stripe's
API, Salesforce's sObjects, Zendesk's organizations, NetSuite's SuiteQL."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from syncwright.demo.quote_to_cash import (
    CATALOG,
    Deal,
    QuoteToCashWorld,
    start_quote_to_cash_world,
)
from syncwright.sandbox import FaultPlan

SETTLE = 300.0


@contextmanager
def lifecycle_world(
    workdir: Path,
    *,
    salesforce_faults: FaultPlan,
    netsuite_faults: FaultPlan,
    before_start: Callable[[QuoteToCashWorld], None] | None = None,
) -> Iterator[QuoteToCashWorld]:
    """The four emulators and syncwright with ``lifecycle.dunning: suspend`` after one failed
    attempt; ``before_start`` may add to the config first."""
    world = start_quote_to_cash_world(
        workdir, salesforce_faults=salesforce_faults, netsuite_faults=netsuite_faults
    )
    try:
        world.billing.settings_args["extra_sections"] = (
            "lifecycle:\n  dunning: {action: suspend, after_attempts: 1}\n"
        )
        if before_start is not None:
            before_start(world)
        world.billing.start_syncwright()
        yield world
    finally:
        world.close()


def settle(world: QuoteToCashWorld) -> None:
    world.billing.wait_settled(SETTLE)
    runtime = world.billing.runtime
    assert runtime is not None
    assert runtime.exceptions.list(status="open") == []


def ids(world: QuoteToCashWorld, deal: Deal) -> tuple[str, str, str]:
    """(account global id, subscription global id, Stripe subscription id) of a deal."""
    runtime = world.billing.runtime
    assert runtime is not None
    account = runtime.xref.global_id_for("account", "salesforce", deal.account)
    deal_id = runtime.xref.global_id_for("deal", "salesforce", deal.opportunity)
    assert account is not None and deal_id is not None
    subscription = f"subs_{deal_id.split('_', 1)[-1]}"
    native = runtime.xref.native_id_for("subscription", subscription, "stripe")
    assert native is not None
    return account, subscription, native


def item(sub: Any, world: QuoteToCashWorld, product: str) -> Any:
    price = world.catalog[product]["stripe_price"]
    return next(i for i in sub["items"]["data"] if i["price"]["id"] == price)


@contextmanager
def quiet(world: QuoteToCashWorld) -> Iterator[None]:
    """Verification reads with the injected faults off: they are there for the sync, and a read
    that met an injected 500 would fail the test for the wrong reason."""
    netsuite, salesforce = world.billing.netsuite.faults.plan, world.sf_faults.plan
    world.billing.netsuite.configure_faults(FaultPlan())
    world.sf_faults.plan = FaultPlan()
    try:
        yield
    finally:
        world.billing.netsuite.configure_faults(netsuite)
        world.sf_faults.plan = salesforce


def crm(world: QuoteToCashWorld, deal: Deal) -> dict[str, Any]:
    with quiet(world):
        return world.sdk().get("Account", deal.account)


def tier(world: QuoteToCashWorld, account_id: str) -> Any:
    orgs = {org.get("external_id"): org for org in world.zendesk_orgs()}
    return orgs[account_id]["organization_fields"]["entitlement_tier"]


def order_lines(world: QuoteToCashWorld, subscription_id: str) -> list[dict[str, Any]]:
    return erp_documents(world).order_lines(subscription_id)


def open_quantities(world: QuoteToCashWorld, subscription_id: str) -> list[int]:
    lines = order_lines(world, subscription_id)
    return sorted(int(Decimal(line["quantity"])) for line in lines if line["isclosed"] != "T")


def erp_total(world: QuoteToCashWorld, native_stripe_id: str, kind: str) -> Decimal | None:
    """The NetSuite total of the invoice or credit memo of a Stripe invoice or credit note."""
    runtime = world.billing.runtime
    assert runtime is not None
    entity = "invoice" if kind == "invoice" else "credit_note"
    gid = runtime.xref.global_id_for(entity, "stripe", native_stripe_id)
    with quiet(world), world.billing.netsuite_client() as netsuite:
        for row in netsuite.suiteql("SELECT externalid, recordtype, foreigntotal FROM transaction"):
            if row.get("externalid") == gid and row["recordtype"] == kind:
                return Decimal(row["foreigntotal"])
    return None


@dataclass(frozen=True)
class ErpInvoice:
    total: Decimal
    line_amounts: list[Decimal]  # sorted


@dataclass(frozen=True)
class ErpDocuments:
    """Every NetSuite transaction and line, read once (a check per document would re-read the
    whole table each time: quadratic at a hundred customers' year)."""

    world: QuoteToCashWorld
    transactions: list[dict[str, Any]]
    lines: dict[str, list[dict[str, Any]]]  # transaction id -> its lines

    def order_lines(self, subscription_id: str) -> list[dict[str, Any]]:
        [order] = [
            r
            for r in self.transactions
            if r["recordtype"] == "salesorder" and r.get("externalid") == subscription_id
        ]
        return self.lines.get(order["id"], [])

    def invoice(self, native_stripe_id: str) -> ErpInvoice | None:
        runtime = self.world.billing.runtime
        assert runtime is not None
        gid = runtime.xref.global_id_for("invoice", "stripe", native_stripe_id)
        for row in self.transactions:
            if row.get("externalid") == gid and row["recordtype"] == "invoice":
                amounts = sorted(Decimal(line["foreignamount"]) for line in self.lines[row["id"]])
                return ErpInvoice(Decimal(row["foreigntotal"]), amounts)
        return None


def erp_documents(world: QuoteToCashWorld) -> ErpDocuments:
    with quiet(world), world.billing.netsuite_client() as netsuite:
        transactions = list(
            netsuite.suiteql("SELECT id, externalid, recordtype, foreigntotal FROM transaction")
        )
        lines: dict[str, list[dict[str, Any]]] = {}
        for line in netsuite.suiteql(
            "SELECT transaction, item, quantity, rate, foreignamount, isclosed FROM transactionline"
        ):
            lines.setdefault(line["transaction"], []).append(line)
    return ErpDocuments(world, transactions, lines)


def prorated(line: dict[str, Any]) -> bool:
    """Whether a Stripe invoice line is a proration."""
    parent = line.get("parent") or {}
    details = parent.get("invoice_item_details") or parent.get("subscription_item_details") or {}
    return bool(details.get("proration"))


def acv(seats: int, platform: bool = True) -> Decimal:
    monthly = (CATALOG["Platform"][0] if platform else 0) + seats * CATALOG["Seats"][0]
    return Decimal(monthly) * 12 / 100


def money(value: Any) -> Decimal:
    return Decimal(str(value or 0)).quantize(Decimal("0.01"))


def balance(world: QuoteToCashWorld, customer: str) -> Decimal:
    stripe = world.billing.stripe.v1
    open_invoices = stripe.invoices.list({"customer": customer, "status": "open"}).data
    return Decimal(sum(i.amount_remaining for i in open_invoices)) / 100


def period_end(sub: Any) -> date:
    end = sub["items"]["data"][0]["current_period_end"]
    return datetime.fromtimestamp(end, UTC).date()
