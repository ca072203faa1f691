"""The customer's life after onboarding, in the CRM and the support desk (docs/lifecycle.md).

The ERP side of each billing event is ``billing_to_erp``; these workflows handle the same events
for the other systems, so one billing event fans out to every system under its one correlation
id (every workflow started by an event carries the event's ``correlationid``):

- amendment (``subscription.updated``): the CRM account's status, ACV, product summary and
  renewal forecast (or cancel date); the support tier follows the new plan;
- a new subscription (``subscription.created``): the CRM's status and what was bought;
- cancellation (``subscription.cancelled``, sent when service actually ends -- at the period's
  end for ``cancel_at_period_end``): the CRM shows it cancelled with no contract value; the
  entitlement is withdrawn. Until then an amendment shows the cancel date, service unchanged;
- payments: a received payment shows on the CRM account (date, amount); a paid invoice, a
  failed collection or a credit note re-reads what the customer owes and sets the account's
  standing (``current``/``past_due``/``suspended``) and balance due; ``lifecycle.dunning`` in
  the config decides whether a failed collection suspends or downgrades the support
  entitlement, and the plan's tier comes back when the dues are cleared.

Only CRM connections that know the account are written (billing-only customers have none), and
only support connections whose organization the account already has (the entitlement comes with
onboarding).
"""

from __future__ import annotations

from typing import Any

from syncwright.connectors import Connector
from syncwright.engine import StepContext, WorkflowRun, workflow
from syncwright.workflows.billing_to_erp import (
    BILLING_READ,
    _crms_knowing,
    _linked,
    _source,
    _write,
)
from syncwright.workflows.lifecycle_plan import (
    SERVING_STATUSES,
    cancelled_fields,
    contract_fields,
    entitlement_in_standing,
    standing_fields,
)
from syncwright.workflows.onboarding_plan import plan_entitlement


def _read(run: WorkflowRun, connection: str, action: str, *args: Any) -> Any:
    source = run.services.connection(connection)
    return run.step(
        f"{connection}.{action}",
        source.action(action).run,
        connection,
        *args,
        policy=BILLING_READ,
        connection=connection,
    )


def _to_crms(run: WorkflowRun, account_id: str, fields: dict[str, Any]) -> dict[str, Any]:
    written: dict[str, Any] = {}
    for crm in _crms_knowing(run, account_id):
        written[crm.name] = _write(run, crm, "update_account_billing", account_id, fields)[
            "native_id"
        ]
    return written


def _desks_knowing(run: WorkflowRun, account_id: str) -> list[Connector]:
    return [
        desk
        for desk in run.services.connections_with_role("support")
        if desk.can("upsert_entitlement")
        and run.step(f"{desk.name}.account_linked", _linked, "account", desk.name, account_id)
    ]


def plan_standing_entitlement(
    ctx: StepContext,
    desk: str,
    account: dict[str, Any],
    subscription: dict[str, Any],
    receivables: dict[str, Any] | None,
) -> dict[str, Any]:
    """The plan's entitlement (``plan_entitlement``), as ``lifecycle.dunning`` leaves it for an
    account that owes ``receivables`` (``None``: not in dunning)."""
    entitlement = plan_entitlement(ctx, desk, account, subscription)
    if receivables is None:
        return entitlement
    options = ctx.services.settings.connections[desk].options
    policies = {str(k): str(v) for k, v in (options.get("sla_policies") or {}).items()}
    policy = ctx.services.settings.lifecycle.dunning
    return entitlement_in_standing(entitlement, receivables, policy, policies)


def _entitle(
    run: WorkflowRun,
    source: str,
    subscription: dict[str, Any],
    receivables: dict[str, Any] | None = None,
    *,
    withdraw: bool = False,
    desks: list[Connector] | None = None,
) -> dict[str, Any]:
    """Every support desk that knows the account (``desks``, when the caller asked already)
    gets the plan's entitlement (in the account's standing), or, with ``withdraw``, the
    entitlement expired."""
    account_id = subscription["account_id"]
    if desks is None:
        desks = _desks_knowing(run, account_id)
    if not desks:
        return {}
    account = _read(run, source, "read_account", account_id)
    tiers: dict[str, Any] = {}
    for desk in desks:
        entitlement = run.step(
            f"{desk.name}.plan_entitlement",
            plan_standing_entitlement,
            desk.name,
            account,
            subscription,
            receivables,
        )
        if withdraw:
            entitlement = {**entitlement, "status": "expired"}
        result = _write(run, desk, "upsert_entitlement", entitlement, account)
        tiers[desk.name] = result["tier"]
    return tiers


@workflow("subscription.amend_downstream", handles=("syncwright.subscription.updated.v1",))
def amend_downstream(run: WorkflowRun, event: dict[str, Any]) -> dict[str, Any]:
    """Amendment (upgrade, downgrade, seats, cancel at period end) -> the CRM account's
    contract and forecast; the support tier follows the plan while the customer has service,
    in the account's standing (an account in dunning stays suspended or downgraded)."""
    subscription = event["data"]["subscription"]
    account_id = subscription["account_id"]
    crm = _to_crms(run, account_id, contract_fields(subscription))
    if subscription["status"] not in SERVING_STATUSES:
        return {"crm_accounts": crm, "support_tiers": {}}
    desks = _desks_knowing(run, account_id)
    source = _source(event)
    receivables = None
    if (
        desks
        and run.services.settings.lifecycle.dunning.action != "none"
        and run.services.connection(source).can("read_receivables")
    ):
        receivables = _read(run, source, "read_receivables", account_id)
    support = _entitle(run, source, subscription, receivables, desks=desks)
    return {"crm_accounts": crm, "support_tiers": support}


@workflow("subscription.created_to_crm", handles=("syncwright.subscription.created.v1",))
def created_to_crm(run: WorkflowRun, event: dict[str, Any]) -> dict[str, Any]:
    """A new subscription (a trial, or one started in billing) -> the CRM account's status,
    contract value, product summary and renewal forecast."""
    subscription = event["data"]["subscription"]
    fields = contract_fields(subscription)
    return {"crm_accounts": _to_crms(run, subscription["account_id"], fields)}


@workflow("subscription.cancel_downstream", handles=("syncwright.subscription.cancelled.v1",))
def cancel_downstream(run: WorkflowRun, event: dict[str, Any]) -> dict[str, Any]:
    """Service ended -> the CRM account shows it cancelled (no contract value, no renewal) and
    the support entitlement is withdrawn (the desk's revoked tier)."""
    data = event["data"]
    subscription = data["subscription"]
    fields = cancelled_fields(subscription, str(data["effective_date"]))
    crm = _to_crms(run, subscription["account_id"], fields)
    support = _entitle(run, _source(event), subscription, withdraw=True)
    return {"crm_accounts": crm, "support_tiers": support}


@workflow("payment.received_to_crm", handles=("syncwright.payment.received.v1",))
def payment_to_crm(run: WorkflowRun, event: dict[str, Any]) -> dict[str, Any]:
    """A payment received -> the CRM account's last payment date and amount (the ERP books
    it from the paid invoice: ``invoice.paid_in_erp``)."""
    payment = event["data"]["payment"]
    received = payment.get("received_at") or event.get("time")
    fields = {
        "last_payment_date": str(received)[:10] if received else None,
        "last_payment_amount": payment["amount"],
    }
    return {"crm_accounts": _to_crms(run, payment["account_id"], fields)}


def _standing(
    run: WorkflowRun, source: str, account_id: str, invoice: dict[str, Any] | None = None
) -> dict[str, Any]:
    """Read what the account owes from the billing system, show its standing and balance in
    every CRM that knows it, and (for an invoice's event) put the support entitlement of the
    invoice's subscription in that standing."""
    policy = run.services.settings.lifecycle.dunning
    crms = _crms_knowing(run, account_id)
    subscription_id = (invoice or {}).get("subscription_id")
    desks = (
        _desks_knowing(run, account_id)
        if subscription_id and policy.action != "none"  # else nothing to change or restore
        else []
    )
    billing = run.services.connection(source)
    if not (crms or desks) or not billing.can("read_receivables"):
        return {"skipped": "no CRM or support desk to show the standing in"}
    receivables: dict[str, Any] = _read(run, source, "read_receivables", account_id)
    fields = standing_fields(receivables, policy)
    written = {
        crm.name: _write(run, crm, "update_account_billing", account_id, fields)["native_id"]
        for crm in crms
    }
    support: dict[str, Any] = {}
    if desks and billing.can("read_subscription"):
        subscription = _read(run, source, "read_subscription", subscription_id)
        # Service that has ended keeps the withdrawn entitlement its cancellation left.
        if subscription["status"] in SERVING_STATUSES:
            support = _entitle(run, source, subscription, receivables, desks=desks)
    return {"receivables": receivables, "crm_accounts": written, "support_tiers": support}


@workflow(
    "invoice.standing_downstream",
    handles=(
        "syncwright.invoice.finalized.v1",
        "syncwright.invoice.payment_failed.v1",
        "syncwright.invoice.paid.v1",
    ),
)
def invoice_standing(run: WorkflowRun, event: dict[str, Any]) -> dict[str, Any]:
    """Invoice issued, collection failed or invoice paid -> the CRM account's standing
    (current, past due or suspended) and balance due; the support entitlement downgraded or
    suspended while in dunning as ``lifecycle.dunning`` says, and the plan's tier back once
    the dues are paid."""
    invoice = event["data"]["invoice"]
    return _standing(run, _source(event), invoice["account_id"], invoice)


@workflow("credit_note.standing_to_crm", handles=("syncwright.credit_note.issued.v1",))
def credit_note_standing(run: WorkflowRun, event: dict[str, Any]) -> dict[str, Any]:
    """Credit note -> what the account owes changes: the CRM's balance and standing (the ERP's
    credit memo is ``credit_note.issue_in_erp``)."""
    note = event["data"]["credit_note"]
    return _standing(run, _source(event), note["account_id"])
