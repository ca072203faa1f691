"""Billing documents on Business Central as engine steps: posted sales invoices and credit
memos (idempotent by external document number; posted only when Business Central's totals
equal the canonical ones). The rules are ``outbound.py``'s (its docstring); the shared plumbing
is ``_steps.py``; payments and dunning are ``receivables.py``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from syncwright.connectors.business_central._steps import (
    CREDIT_NOTE,
    INVOICE,
    JSON,
    _audit,
    _billing_lines,
    _connector,
    _customer,
    _find_document,
    _link,
    _parse,
    _post_checked,
    _result,
    _same,
    _write_document,
)
from syncwright.engine import StepContext
from syncwright.errors import BusinessRuleError, DependencyMissingError
from syncwright.model import CreditNote, Invoice

if TYPE_CHECKING:
    from syncwright.connectors.business_central.connector import BusinessCentralConnector

__all__ = [
    "posted_invoice",
    "probe_credit_memo",
    "probe_invoice",
    "upsert_credit_memo",
    "upsert_invoice",
    "void_credit_memo",
    "void_invoice",
]


# -- posted documents (invoices, credit memos) -----------------------------------------------


@dataclass(frozen=True)
class _Posted:
    """A kind of document that is written as a draft and then posted."""

    entity_set: str
    entity_type: str  # cross-reference entity type
    label: str  # "invoice", "credit note"

    @property
    def audit_action(self) -> str:
        return f"business_central.{self.entity_set[:-1]}.post"


_INVOICE = _Posted("salesInvoices", INVOICE, "invoice")
_CREDIT_MEMO = _Posted("salesCreditMemos", CREDIT_NOTE, "credit note")


def _booked(
    ctx: StepContext,
    connection: str,
    kind: _Posted,
    parsed: Invoice | CreditNote,
    record: JSON,
    body: JSON,
    ref: str,
) -> JSON:
    """A posted document Business Central holds (posted now, or found by a probe): linked to
    its global id, audited, and the step's result."""
    _link(ctx, kind.entity_type, parsed.global_id, connection, record["id"])
    _audit(ctx, connection, kind.audit_action, record["id"], parsed.total, body)
    return _result(
        connection,
        kind.entity_type,
        parsed.global_id,
        record["id"],
        body,
        ref,
        number=record.get("number"),
        status=record.get("status"),
        total=parsed.total.model_dump(mode="json"),
        remaining=record.get("remainingAmount"),
    )


def _upsert_posted(
    ctx: StepContext,
    connector: BusinessCentralConnector,
    kind: _Posted,
    parsed: Invoice | CreditNote,
    body: JSON,
    ref: str,
) -> JSON:
    """Write the draft (unless it is posted already), post it when its totals are ours."""
    client = connector.client
    existing = _find_document(client, kind.entity_set, parsed.global_id)
    draft = (
        existing
        if existing is not None and existing.get("status") != "Draft"
        else _write_document(client, kind.entity_set, body, existing)
    )
    what = f"{kind.label} {parsed.global_id}"
    record = _post_checked(
        ctx, connector, kind.entity_set, draft, parsed.total, parsed.tax_total, what
    )
    return _booked(ctx, connector.name, kind, parsed, record, body, ref)


def _probe_posted(
    ctx: StepContext,
    connector: BusinessCentralConnector,
    kind: _Posted,
    parsed: Invoice | CreditNote,
    body: JSON,
    ref: str,
) -> JSON | None:
    """Did the document land, posted, with our total?"""
    found = _find_document(connector.client, kind.entity_set, parsed.global_id)
    if (
        found is None
        or found.get("status") == "Draft"
        or not _same(found.get("totalAmountIncludingTax"), parsed.total)
    ):
        return None
    return _booked(ctx, connector.name, kind, parsed, found, body, ref)


def _cancel_posted(ctx: StepContext, connection: str, kind: _Posted, result: JSON) -> None:
    """Cancel a posted document (``Microsoft.NAV.cancel``); a draft is deleted."""
    client = _connector(ctx, connection).client
    record = client.get(kind.entity_set, str(result["native_id"]))
    if record.get("status") == "Draft":
        client.delete(kind.entity_set, record)
    elif record.get("status") != "Canceled":
        client.action(kind.entity_set, record["id"], "cancel")


def posted_invoice(connector: BusinessCentralConnector, invoice_id: str) -> str:
    """The Business Central id of a posted invoice a payment or credit applies to; waits for
    the invoice when it is not posted yet."""
    found = _find_document(connector.client, "salesInvoices", invoice_id)
    if found is None or found.get("status") == "Draft":
        raise DependencyMissingError(
            f"invoice {invoice_id} is not posted in Business Central ({connector.name})",
            code="business_central.invoice_not_synced",
            remediation=(
                f"Sync invoice {invoice_id} first (upsert_invoice); the exception waits for it "
                "and retries by itself."
            ),
            waits_for={
                "entity_type": INVOICE,
                "global_id": invoice_id,
                "system": connector.name,
                "record_type": "salesInvoice",
            },
        )
    return str(found["id"])


# -- invoice ---------------------------------------------------------------------------------


def _invoice_body(
    ctx: StepContext, connector: BusinessCentralConnector, invoice: JSON
) -> tuple[Invoice, JSON, str]:
    parsed: Invoice = _parse(Invoice, invoice, "invoice")
    if parsed.tax_inclusive:
        raise BusinessRuleError(
            f"invoice {parsed.global_id} has tax-inclusive amounts; mapping "
            "business_central_outbound books tax-exclusive lines",
            code="business_central.tax_inclusive",
            remediation=(
                "Book this invoice by hand in Business Central, then resolve the exception."
            ),
        )
    customer = _customer(ctx, connector, parsed.account_id)
    lines = _billing_lines(ctx, connector, parsed.lines, f"invoice {parsed.global_id}")
    mapping = connector.mapping("outbound")
    record = {
        "invoice": parsed.model_dump(mode="json"),
        "customer_id": customer["id"],
        "lines": lines,
    }
    return parsed, mapping.apply("invoice", record), mapping.ref


def upsert_invoice(ctx: StepContext, connection: str, invoice: JSON) -> JSON:
    """Invoice -> posted sales invoice (external document No. = invoice global id), posted
    only when Business Central's totals equal the canonical ones."""
    connector = _connector(ctx, connection)
    parsed, body, ref = _invoice_body(ctx, connector, invoice)
    return _upsert_posted(ctx, connector, _INVOICE, parsed, body, ref)


def probe_invoice(ctx: StepContext, connection: str, invoice: JSON) -> JSON | None:
    connector = _connector(ctx, connection)
    parsed, body, ref = _invoice_body(ctx, connector, invoice)
    return _probe_posted(ctx, connector, _INVOICE, parsed, body, ref)


def void_invoice(ctx: StepContext, result: JSON, connection: str, *args: Any) -> None:
    """Compensation for :func:`upsert_invoice`: cancel the posted invoice (Business Central
    books a corrective credit memo); refused once it is partly paid, and the compensation
    then fails and is reported."""
    _cancel_posted(ctx, connection, _INVOICE, result)


# -- credit memo -----------------------------------------------------------------------------


def _credit_body(
    ctx: StepContext, connector: BusinessCentralConnector, credit_note: JSON
) -> tuple[CreditNote, JSON, str]:
    parsed: CreditNote = _parse(CreditNote, credit_note, "credit note")
    customer = _customer(ctx, connector, parsed.account_id)
    invoice_id = None
    if parsed.invoice_id is not None:
        invoice_id = posted_invoice(connector, parsed.invoice_id)
    lines = _billing_lines(ctx, connector, parsed.lines, f"credit note {parsed.global_id}")
    mapping = connector.mapping("outbound")
    record = {
        "credit_note": parsed.model_dump(mode="json"),
        "customer_id": customer["id"],
        "invoice_id": invoice_id,
        "lines": lines,
    }
    return parsed, mapping.apply("credit_memo", record), mapping.ref


def upsert_credit_memo(ctx: StepContext, connection: str, credit_note: JSON) -> JSON:
    """CreditNote -> posted sales credit memo applied to its invoice."""
    connector = _connector(ctx, connection)
    parsed, body, ref = _credit_body(ctx, connector, credit_note)
    return _upsert_posted(ctx, connector, _CREDIT_MEMO, parsed, body, ref)


def probe_credit_memo(ctx: StepContext, connection: str, credit_note: JSON) -> JSON | None:
    connector = _connector(ctx, connection)
    parsed, body, ref = _credit_body(ctx, connector, credit_note)
    return _probe_posted(ctx, connector, _CREDIT_MEMO, parsed, body, ref)


def void_credit_memo(ctx: StepContext, result: JSON, connection: str, *args: Any) -> None:
    """Compensation for :func:`upsert_credit_memo`: cancel the posted credit memo, so its
    invoice is due again; a draft is deleted."""
    _cancel_posted(ctx, connection, _CREDIT_MEMO, result)
