"""Subscription billing -> ERP: customers, contracts (sales orders) and receivables.

Events of one billing customer share the entity key ``account:<id>``, so they run one after
another, in arrival order: the ERP customer exists before its sales order, the sales order
before its invoices. Each workflow writes to the connections with ``options.role: erp`` that
have the action it needs (those ``routing.erp`` chooses for the customer, when it has rules);
every write is idempotent by external id and probed when uncertain.
"""

from __future__ import annotations

from typing import Any

from syncwright.connectors import Connector
from syncwright.engine import RetryPolicy, StepContext, StepPolicy, WorkflowRun, workflow
from syncwright.workflows._route import Route, route_account
from syncwright.workflows.lifecycle_plan import contract_fields

ERP_WRITE = StepPolicy(
    timeout_seconds=30.0,
    retry=RetryPolicy(max_attempts=8, base_delay_seconds=0.5, max_delay_seconds=30.0),
)
BILLING_READ = StepPolicy(
    timeout_seconds=15.0,
    retry=RetryPolicy(max_attempts=6, base_delay_seconds=0.5, max_delay_seconds=15.0),
)


def _source(event: dict[str, Any]) -> str:
    """The connection an event came from (``source`` is ``syncwright/<connection>``)."""
    return str(event["source"]).split("/", 1)[-1]


def _targets(run: WorkflowRun, action: str, account_id: str, currency: str | None) -> list[Route]:
    """The ERP routes of the account; a document in a currency its entity does not book parks."""
    return route_account(run, "erp", action, account_id, currency=currency)


def _write(run: WorkflowRun, target: Connector, action: str, *args: Any) -> Any:
    step = target.action(action)
    return run.step(
        f"{target.name}.{action}",
        step.run,
        target.name,
        *args,
        policy=ERP_WRITE,
        probe=step.probe,
        compensation=step.compensate,
        connection=target.name,
    )


def _linked(ctx: StepContext, entity_type: str, system: str, global_id: str) -> bool:
    """Whether ``system`` holds ``global_id`` (its native id is in the cross-reference)."""
    return ctx.services.xref.native_id_for(entity_type, global_id, system) is not None


def _ensure_customer(
    run: WorkflowRun, route: Route, account_id: str, source: str, *, refresh: bool
) -> None:
    """Content enricher: read the account from the billing system and upsert it in the ERP,
    unless the ERP already has it (``refresh`` re-sends it anyway, e.g. at activation)."""
    target = route.target
    if not refresh and run.step(
        f"{target.name}.customer_known", _linked, "account", target.name, account_id
    ):
        return
    billing = run.services.connection(source)
    if not billing.can("read_account"):
        return  # the ERP step will report the missing customer with remediation
    account = run.step(
        f"{source}.read_account",
        billing.action("read_account").run,
        source,
        account_id,
        policy=BILLING_READ,
        connection=source,
    )
    _write(run, target, "upsert_account", route.account(account))


def _ensure_invoice(run: WorkflowRun, target: Connector, invoice: dict[str, Any]) -> None:
    """The ERP invoice a payment or a dunning status applies to, written only if this ERP
    never got it (its finalized event was missed): a finalized invoice's lines, dates and
    totals cannot change, so sending it again would cost two NetSuite calls for nothing."""
    if not run.step(
        f"{target.name}.invoice_known", _linked, "invoice", target.name, invoice["global_id"]
    ):
        _write(run, target, "upsert_invoice", invoice)


def _crms_knowing(run: WorkflowRun, account_id: str) -> list[Connector]:
    """The CRM connections that can take billing facts and know the account (billing-only
    customers have none)."""
    return [
        crm
        for crm in run.services.connections_with_role("crm")
        if crm.can("update_account_billing")
        and run.step(f"{crm.name}.account_linked", _linked, "account", crm.name, account_id)
    ]


def _show_invoice_in_crm(run: WorkflowRun, invoice: dict[str, Any]) -> None:
    """Invoice visibility: the CRM account shows its latest invoice and where it stands, for
    every CRM connection that knows the account (billing-only customers are skipped)."""
    for crm in _crms_knowing(run, invoice["account_id"]):
        fields = {
            "last_invoice_number": invoice.get("number") or invoice["global_id"],
            "last_invoice_status": invoice["status"],
        }
        _write(run, crm, "update_account_billing", invoice["account_id"], fields)


@workflow("subscription.activate_in_erp", handles=("syncwright.subscription.activated.v1",))
def activate(run: WorkflowRun, event: dict[str, Any]) -> dict[str, Any]:
    """Active subscription -> ERP customer (legal entity, subsidiary, currency, tax) -> ERP
    sales order for the contract terms; the document ids land in the ledger and xref."""
    subscription = event["data"]["subscription"]
    orders: dict[str, Any] = {}
    account_id, currency = subscription["account_id"], subscription["currency"]
    for route in _targets(run, "upsert_sales_order", account_id, currency):
        _ensure_customer(run, route, account_id, _source(event), refresh=True)
        target = route.target
        orders[target.name] = _write(run, target, "upsert_sales_order", subscription)["native_id"]
    return {"sales_orders": orders}


@workflow(
    "subscription.amend_in_erp",
    handles=("syncwright.subscription.updated.v1", "syncwright.subscription.renewed.v1"),
)
def amend(run: WorkflowRun, event: dict[str, Any]) -> dict[str, Any]:
    """Mid-term change or renewal -> the sales order follows the subscription's terms."""
    subscription = event["data"]["subscription"]
    if subscription["status"] not in ("active", "past_due"):
        return {"skipped": f"subscription is {subscription['status']}"}
    orders: dict[str, Any] = {}
    account_id, currency = subscription["account_id"], subscription["currency"]
    for route in _targets(run, "upsert_sales_order", account_id, currency):
        _ensure_customer(run, route, account_id, _source(event), refresh=False)
        target = route.target
        orders[target.name] = _write(run, target, "upsert_sales_order", subscription)["native_id"]
    return {"sales_orders": orders}


@workflow("subscription.renewal_to_crm", handles=("syncwright.subscription.renewed.v1",))
def renewal_to_crm(run: WorkflowRun, event: dict[str, Any]) -> dict[str, Any]:
    """Renewal visibility: every CRM connection that knows the account gets the renewed
    subscription's status, annual contract value, product summary and the next renewal's date
    and amount (the forecast; ``lifecycle_plan.contract_fields``). The ERP side is
    ``amend_in_erp``: the new term's sales order."""
    subscription = event["data"]["subscription"]
    updated: dict[str, Any] = {}
    for crm in _crms_knowing(run, subscription["account_id"]):
        fields = contract_fields(subscription)
        result = _write(run, crm, "update_account_billing", subscription["account_id"], fields)
        updated[crm.name] = result["native_id"]
    return {"crm_accounts": updated}


@workflow("subscription.cancel_in_erp", handles=("syncwright.subscription.cancelled.v1",))
def cancel(run: WorkflowRun, event: dict[str, Any]) -> dict[str, Any]:
    data = event["data"]
    closed: dict[str, Any] = {}
    subscription = data["subscription"]
    for route in _targets(run, "close_sales_order", subscription["account_id"], None):
        target = route.target
        result = _write(
            run, target, "close_sales_order", data["subscription"], data["effective_date"]
        )
        closed[target.name] = result["native_id"]
    return {"closed": closed}


@workflow("invoice.finalize_in_erp", handles=("syncwright.invoice.finalized.v1",))
def finalize_invoice(run: WorkflowRun, event: dict[str, Any]) -> dict[str, Any]:
    invoice = event["data"]["invoice"]
    written: dict[str, Any] = {}
    for route in _targets(run, "upsert_invoice", invoice["account_id"], invoice["currency"]):
        _ensure_customer(run, route, invoice["account_id"], _source(event), refresh=False)
        target = route.target
        written[target.name] = _write(run, target, "upsert_invoice", invoice)["native_id"]
    _show_invoice_in_crm(run, invoice)
    return {"invoices": written}


@workflow("invoice.paid_in_erp", handles=("syncwright.invoice.paid.v1",))
def invoice_paid(run: WorkflowRun, event: dict[str, Any]) -> dict[str, Any]:
    """Paid invoice -> the ERP invoice (if the finalized event was missed) and a customer
    payment applied to it. ``payment.received.v1`` from the same delivery is not also booked."""
    data = event["data"]
    invoice = data["invoice"]
    payments: dict[str, Any] = {}
    for route in _targets(run, "apply_payment", invoice["account_id"], invoice["currency"]):
        _ensure_customer(run, route, invoice["account_id"], _source(event), refresh=False)
        target = route.target
        _ensure_invoice(run, target, invoice)
        result = _write(run, target, "apply_payment", invoice, data.get("payment_id"))
        payments[target.name] = result["native_id"]
    _show_invoice_in_crm(run, invoice)
    return {"payments": payments}


@workflow("invoice.dunning_in_erp", handles=("syncwright.invoice.payment_failed.v1",))
def payment_failed(run: WorkflowRun, event: dict[str, Any]) -> dict[str, Any]:
    """Failed collection -> the ERP invoice carries the dunning status for collections."""
    data = event["data"]
    invoice = data["invoice"]
    marked: dict[str, Any] = {}
    for route in _targets(run, "mark_dunning", invoice["account_id"], invoice["currency"]):
        _ensure_customer(run, route, invoice["account_id"], _source(event), refresh=False)
        target = route.target
        _ensure_invoice(run, target, invoice)
        result = _write(
            run, target, "mark_dunning", invoice, data["attempt_count"], data.get("failure_reason")
        )
        marked[target.name] = result["native_id"]
    _show_invoice_in_crm(run, invoice)
    return {"dunning": marked}


@workflow("credit_note.issue_in_erp", handles=("syncwright.credit_note.issued.v1",))
def credit_note(run: WorkflowRun, event: dict[str, Any]) -> dict[str, Any]:
    note = event["data"]["credit_note"]
    memos: dict[str, Any] = {}
    for route in _targets(run, "upsert_credit_memo", note["account_id"], note["currency"]):
        target = route.target
        memos[target.name] = _write(run, target, "upsert_credit_memo", note)["native_id"]
    return {"credit_memos": memos}
