"""Refunds -> NetSuite, as NetSuite books a cash refund: a **customer refund** paid out of a
**credit memo** (Transactions > Customers > Issue Customer Refund; REST records
``customerRefund`` and ``creditMemo``).

- A refund issued with a credit note (``Refund.credit_note_id``): the credit note's credit memo
  (``credit_note.issue_in_erp``) holds the credit; the customer refund pays it out.
- A refund of a payment without a credit note (Stripe's ``charge.refunded``): the credit is
  booked first, as a credit memo (external id ``<refund id>.credit``) created from the paid
  invoice, one line of the refunded amount on ``options.refund_item`` (else
  ``options.default_item``), not taxable (``options.tax_codes.exempt`` when mapped: a refund
  carries no tax breakdown; one that must reverse tax is issued as a credit note in billing);
  then the customer refund pays it out.

Both records are written by external id (the refund's global id), so a re-delivered or retried
refund books nothing twice; the step's probe reads the customer refund back by external id.
Oracle: "Customer Refund" (REST API Browser ``customerRefund``: ``customer``, ``apply`` sublist
of credits), "Credit Memo" (``creditMemo``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from syncwright.connectors.netsuite import outbound as ob
from syncwright.connectors.netsuite.mapping import (
    NetSuiteRecord,
    _apply,
    _ref,
    amount,
    parse_canonical,
)
from syncwright.connectors.netsuite.refs import (
    CREDIT_NOTE,
    INVOICE,
    Resolver,
    customer_id,
    with_fresh_refs,
)
from syncwright.engine import StepContext
from syncwright.errors import BusinessRuleError, DependencyMissingError
from syncwright.model import Refund

if TYPE_CHECKING:  # the connector imports this module to declare its actions
    from syncwright.connectors.netsuite.connector import NetSuiteConnector

__all__ = ["book_refund", "probe_refund", "void_refund"]

JSON = dict[str, Any]
REFUND = "refund"
CREDIT_SUFFIX = ".credit"


@dataclass(frozen=True)
class _Plan:
    refund: Refund
    customer_id: str
    memo: NetSuiteRecord | None  # the credit memo to write (a refund without a credit note)
    memo_id: str | None  # the credit note's credit memo (a refund with a credit note)


def _plan(refs: Resolver, document: JSON) -> _Plan:
    connector = refs.connector
    refund = parse_canonical(Refund, document, "refund")
    customer = customer_id(refs, None, refund.account_id)
    if refund.credit_note_id is None:
        return _Plan(refund, customer, _credit_record(refs, refund, customer), None)
    memo_id = refs.native_id(CREDIT_NOTE, "creditMemo", refund.credit_note_id)
    if memo_id is None:
        raise DependencyMissingError(
            f"credit note {refund.credit_note_id} of refund {refund.global_id} is not in "
            f"NetSuite ({connector.name})",
            code="netsuite.credit_memo_not_synced",
            remediation=(
                f"Sync credit note {refund.credit_note_id} first (credit_note.issue_in_erp); "
                "the refund pays out its credit memo. The exception waits for the credit "
                "memo and retries by itself once it is there."
            ),
            waits_for={
                "entity_type": CREDIT_NOTE,
                "global_id": refund.credit_note_id,
                "system": connector.name,
                "record_type": "creditMemo",
            },
        )
    return _Plan(refund, customer, None, memo_id)


def _credit_record(refs: Resolver, refund: Refund, customer: str) -> NetSuiteRecord:
    connector = refs.connector
    options = connector.options
    what = f"refund {refund.global_id}"
    item = options.refund_item or options.default_item
    if item is None:
        raise BusinessRuleError(
            f"{what} has no NetSuite item to book its credit on",
            code="netsuite.unmapped_refund_item",
            remediation=(
                f"set {options.where('refund_item')} (or {options.where('default_item')}) to "
                "the internal id of the item refunds are booked on, then retry"
            ),
        )
    tax_code = _refund_tax_code(connector, customer, what)
    invoice_id = None
    if refund.invoice_id is not None:
        invoice_id = refs.native_id(INVOICE, "invoice", refund.invoice_id)
    line: JSON = {
        "item": _ref(item),
        "quantity": 1,
        "amount": amount(refund.amount),
        "description": f"Refund {refund.reference or refund.global_id}",
    }
    if tax_code is not None:
        line["taxCode"] = _ref(tax_code)
    record = {
        "refund": refund.model_dump(mode="json"),
        "customer_id": customer,
        "invoice_id": invoice_id,
        "lines": [line],
        "tran_date": _day(refund),
    }
    body, ref = _apply(connector.mapping("outbound"), "refund_credit_memo", record, options)
    return NetSuiteRecord("creditMemo", refund.global_id + CREDIT_SUFFIX, body, ref)


def _refund_tax_code(connector: NetSuiteConnector, native_customer: str, what: str) -> str | None:
    """``tax_codes.exempt`` when mapped; without it the customer's default tax item applies,
    which must then carry no tax (else NetSuite would book more than was refunded)."""
    exempt = connector.options.tax_codes.get("exempt")
    if exempt is not None:
        return exempt
    customer = connector.client.get("customer", native_customer)
    default = ob._ref_id(customer.get("taxItem"))
    if default is not None and connector.tax_rate(default):
        raise BusinessRuleError(
            f"{what}: customer {native_customer}'s default tax code {default} would add tax to a "
            "refund's credit",
            code="netsuite.refund_tax",
            remediation=(
                f"map a not-taxable code as {connector.options.where('tax_codes')}.exempt "
                "(e.g. -Not Taxable-), then retry"
            ),
        )
    return None


def _day(refund: Refund) -> str | None:
    return refund.refunded_at.date().isoformat() if refund.refunded_at else None


def _refund_record(connector: NetSuiteConnector, plan: _Plan, memo_id: str) -> NetSuiteRecord:
    refund = plan.refund
    record = {
        "refund": refund.model_dump(mode="json"),
        "customer_id": plan.customer_id,
        "apply": [{"doc": _ref(memo_id), "apply": True, "amount": amount(refund.amount)}],
        "tran_date": _day(refund),
    }
    options = connector.options
    body, ref = _apply(connector.mapping("outbound"), "customer_refund", record, options)
    return NetSuiteRecord("customerRefund", refund.global_id, body, ref)


def _result(
    connector: NetSuiteConnector, plan: _Plan, record: NetSuiteRecord, native_id: str, memo: str
) -> JSON:
    return ob._result(
        connector.name,
        REFUND,
        record,
        native_id,
        total=plan.refund.amount.model_dump(mode="json"),
        credit_memo=memo,
        # Whether this step wrote the credit memo (a refund without a credit note).
        credit_memo_written=plan.memo is not None,
    )


def book_refund(ctx: StepContext, connection: str, refund: JSON) -> JSON:
    """Refund -> NetSuite customer refund paying out its credit memo (written first when the
    refund came without a credit note). Each record is one upsert by external id."""
    connector = ob._connector(ctx, connection)

    def write(refs: Resolver) -> tuple[_Plan, str, NetSuiteRecord, str]:
        plan = _plan(refs, refund)
        memo_id = plan.memo_id
        if plan.memo is not None:
            memo_id = ob._write(connector.client, plan.memo, replace=("item", "apply"))
        assert memo_id is not None
        record = _refund_record(connector, plan, memo_id)
        return plan, memo_id, record, ob._write(connector.client, record, replace=("apply",))

    plan, memo_id, record, native_id = with_fresh_refs(ctx, connector, write)
    if plan.memo is not None:
        action = "netsuite.creditMemo.upsert"
        ob._audit(ctx, connection, action, memo_id, plan.refund.amount, plan.memo.body)
        found = connector.client.get("creditMemo", memo_id)
        ob._check_total(found, plan.refund.amount, f"refund {plan.refund.global_id}", memo_id)
    ob._booked(ctx, connection, record, native_id, plan.refund.amount, REFUND)
    return _result(connector, plan, record, native_id, memo_id)


def probe_refund(ctx: StepContext, connection: str, refund: JSON) -> JSON | None:
    """After an uncertain write: the customer refund by external id, if it books this amount."""
    connector = ob._connector(ctx, connection)
    plan = _plan(Resolver(ctx, connector), refund)
    client = connector.client
    found = client.get_by_external_id("customerRefund", plan.refund.global_id)
    if found is None or not ob._same_total(found, "total", plan.refund.amount):
        return None
    memo_id = plan.memo_id
    if plan.memo is not None:
        memo = client.get_by_external_id("creditMemo", plan.memo.external_id)
        memo_id = str(memo["id"]) if memo is not None else None
    if memo_id is None:
        return None
    record = _refund_record(connector, plan, memo_id)
    native_id = str(found["id"])
    ob._booked(ctx, connection, record, native_id, plan.refund.amount, REFUND)
    return _result(connector, plan, record, native_id, memo_id)


def void_refund(ctx: StepContext, result: JSON, connection: str, *args: Any) -> None:
    """Compensation for :func:`book_refund`: delete the customer refund, then the credit memo
    it wrote for a refund without a credit note (a credit note's memo is its own workflow's)."""
    connector = ob._connector(ctx, connection)
    ob._delete_financial(ctx, connector, "customerRefund", result)
    memo = result.get("credit_memo")
    if memo and result.get("credit_memo_written"):
        ob._delete_financial(ctx, connector, "creditMemo", {**result, "native_id": memo})
