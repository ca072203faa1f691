"""Which NetSuite record a global id names, answered from what syncwright already knows.

Every record a step writes (or finds) is linked in the cross-reference (global id -> NetSuite
internal id), so a later step -- the invoice after its customer and sales order -- reads the
internal id there instead of asking NetSuite (``GET customer/eid:...``): a request less per
reference. Only a global id with no link is looked up by external id in NetSuite (and linked).

A link goes stale when someone deletes the record in NetSuite and it is created again under a
new internal id. NetSuite then refuses the write that names the old id (400
``INVALID_KEY_OR_REF``; 404 ``NONEXISTENT_ID`` for a PATCH by id), and a refused write changed
nothing, so :func:`with_fresh_refs` runs the step once more with every reference read by
external id in NetSuite first (authoritative), the cross-reference then only for records linked
by match-and-link, which carry no external id of ours.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

from syncwright.engine import StepContext
from syncwright.errors import BusinessRuleError, DependencyMissingError

if TYPE_CHECKING:
    from syncwright.connectors.netsuite.connector import NetSuiteConnector

__all__ = [
    "ACCOUNT",
    "CREDIT_NOTE",
    "INVOICE",
    "PAYMENT",
    "STALE_REFERENCE_CODES",
    "SUBSCRIPTION",
    "Ref",
    "Resolver",
    "customer_id",
    "explicit_ref",
    "invoice_ref",
    "open_invoice",
    "sales_order_id",
    "with_fresh_refs",
]

T = TypeVar("T")
# A reference a step argument gives: a previous step's result, {"id"}, {"externalId"}, a global id.
Ref = Mapping[str, Any] | str | None

# Cross-reference entity types (syncwright's vocabulary, not NetSuite record types).
ACCOUNT = "account"
SUBSCRIPTION = "subscription"
INVOICE = "invoice"
PAYMENT = "payment"
CREDIT_NOTE = "credit_note"

# What NetSuite answers a write that names an internal id it no longer has.
STALE_REFERENCE_CODES = frozenset({"netsuite.INVALID_KEY_OR_REF", "netsuite.NONEXISTENT_ID"})


@dataclass
class Resolver:
    """Resolves global ids to internal ids for one run of a step.

    ``fresh``: read by external id in NetSuite first (after a stale link), else the link first.
    ``used_links`` says whether an answer came from the cross-reference without asking NetSuite.
    """

    ctx: StepContext
    connector: NetSuiteConnector
    fresh: bool = False
    used_links: bool = False

    def record(
        self, entity_type: str, record_type: str, global_id: str
    ) -> tuple[str | None, Mapping[str, Any] | None]:
        """(internal id, the record if it was read) of a global id; (None, None) when neither
        the cross-reference nor NetSuite knows it."""
        xref = self.ctx.services.xref
        connection = self.connector.name
        if not self.fresh:
            known = xref.native_id_for(entity_type, global_id, connection)
            if known is not None:
                self.used_links = True
                return str(known), None
        found = self.connector.client.get_by_external_id(record_type, global_id)
        if found is not None:
            native_id = str(found["id"])
            xref.link(entity_type, global_id, connection, native_id)
            return native_id, found
        if self.fresh:  # a record linked by match-and-link carries no external id of ours
            known = xref.native_id_for(entity_type, global_id, connection)
            return (str(known) if known is not None else None), None
        return None, None

    def native_id(self, entity_type: str, record_type: str, global_id: str) -> str | None:
        return self.record(entity_type, record_type, global_id)[0]


def with_fresh_refs(
    ctx: StepContext, connector: NetSuiteConnector, step: Callable[[Resolver], T]
) -> T:
    """Run ``step`` resolving references from the cross-reference; if NetSuite refuses its
    write because an internal id taken from there is gone, run it once more resolving every
    reference in NetSuite by external id."""
    refs = Resolver(ctx, connector)
    try:
        return step(refs)
    except BusinessRuleError as exc:
        if exc.code not in STALE_REFERENCE_CODES or not refs.used_links:
            raise
    return step(Resolver(ctx, connector, fresh=True))


# -- the references steps name ------------------------------------------------------------


def explicit_ref(ref: Ref) -> tuple[str | None, str | None]:
    """(internal id, external id) named by a step argument: a previous step's result
    (``native_id``), ``{"id": ...}``, ``{"externalId": ...}``, or a global id string."""
    if ref is None:
        return None, None
    if isinstance(ref, str):
        return None, ref
    for key in ("native_id", "id"):
        if ref.get(key) is not None:
            return str(ref[key]), None
    external = ref.get("externalId", ref.get("external_id"))
    return None, str(external) if external is not None else None


def _waits_for(
    entity_type: str, global_id: str, connection: str, record_type: str
) -> dict[str, str]:
    return {
        "entity_type": entity_type,
        "global_id": global_id,
        "system": connection,
        "record_type": record_type,
    }


def customer_id(refs: Resolver, ref: Ref, account_id: str) -> str:
    """The internal id of the customer a document names; a customer NetSuite does not have
    yet waits (``netsuite.customer_not_synced``)."""
    native_id, global_id = explicit_ref(ref)
    if native_id is not None:
        return native_id
    global_id = global_id or account_id
    found = refs.native_id(ACCOUNT, "customer", global_id)
    if found is None:
        connection = refs.connector.name
        raise DependencyMissingError(
            f"account {global_id} has no customer in NetSuite ({connection})",
            code="netsuite.customer_not_synced",
            remediation=(
                f"Sync account {global_id} to NetSuite first (upsert_customer), or link the "
                f"existing NetSuite customer to it (set its External ID to {global_id}); the "
                "exception waits for the customer and retries by itself once it is there."
            ),
            waits_for=_waits_for(ACCOUNT, global_id, connection, "customer"),
        )
    return found


def invoice_ref(refs: Resolver, invoice_id: str) -> tuple[str, Mapping[str, Any] | None]:
    """(internal id, record if read) of an invoice NetSuite must have; one it does not have
    yet waits (``netsuite.invoice_not_synced``)."""
    native_id, found = refs.record(INVOICE, "invoice", invoice_id)
    if native_id is None:
        connection = refs.connector.name
        raise DependencyMissingError(
            f"invoice {invoice_id} is not in NetSuite ({connection})",
            code="netsuite.invoice_not_synced",
            remediation=(
                f"Sync invoice {invoice_id} to NetSuite first (upsert_invoice); payments and "
                "credits apply only to invoices NetSuite has. The exception waits for the "
                "invoice and retries by itself once it is there."
            ),
            waits_for=_waits_for(INVOICE, invoice_id, connection, "invoice"),
        )
    return native_id, found


def open_invoice(refs: Resolver, invoice_id: str) -> tuple[str, Mapping[str, Any]]:
    """(internal id, record) of an invoice a payment or credit applies to; the record carries
    what is still due on it (read by internal id when the lookup did not read it)."""
    native_id, found = invoice_ref(refs, invoice_id)
    return native_id, found if found is not None else refs.connector.client.get(
        "invoice", native_id
    )


def sales_order_id(refs: Resolver, ref: Ref, subscription_id: str | None) -> str | None:
    """The internal id of a document's sales order, None when NetSuite has none."""
    native_id, global_id = explicit_ref(ref)
    if native_id is not None:
        return native_id
    global_id = global_id or subscription_id
    if global_id is None:
        return None
    return refs.native_id(SUBSCRIPTION, "salesOrder", global_id)
