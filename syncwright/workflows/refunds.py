"""Refunds -> the ERP and the CRM (docs/lifecycle.md, "Refunds").

``syncwright.payment.refunded.v1`` (a Stripe ``charge.refunded``, or a credit note issued with
a refund) starts two workflows under the event's correlation id:

- ``payment.refund_in_erp``: every ERP route of the account books the cash refund
  (``book_refund``: NetSuite's customer refund paying out a credit memo);
- ``payment.refund_to_crm``: every CRM that knows the account shows the last refund (date,
  amount) with the standing and balance due read again from billing.

One refund is one global id, so a re-delivered event or a later partial refund of the same
charge (which lists the earlier refund again) writes nothing twice.
"""

from __future__ import annotations

from typing import Any

from syncwright.engine import WorkflowRun, workflow
from syncwright.workflows.billing_to_erp import _crms_knowing, _source, _targets, _write
from syncwright.workflows.lifecycle import _read
from syncwright.workflows.lifecycle_plan import standing_fields


@workflow("payment.refund_in_erp", handles=("syncwright.payment.refunded.v1",))
def refund_in_erp(run: WorkflowRun, event: dict[str, Any]) -> dict[str, Any]:
    """Refund -> the ERP's cash refund against its credit (written by external id)."""
    refund = event["data"]["refund"]
    account_id, currency = refund["account_id"], refund["amount"]["currency"]
    booked: dict[str, Any] = {}
    for route in _targets(run, "book_refund", account_id, currency):
        target = route.target
        booked[target.name] = _write(run, target, "book_refund", refund)["native_id"]
    return {"refunds": booked}


def refund_fields(refund: dict[str, Any], event_time: Any) -> dict[str, Any]:
    """The CRM account's last refund: its date (the refund's, else the event's) and amount."""
    when = refund.get("refunded_at") or event_time
    return {
        "last_refund_date": str(when)[:10] if when else None,
        "last_refund_amount": refund["amount"],
    }


@workflow("payment.refund_to_crm", handles=("syncwright.payment.refunded.v1",))
def refund_to_crm(run: WorkflowRun, event: dict[str, Any]) -> dict[str, Any]:
    """Refund -> the CRM account's last refund date and amount, standing and balance due."""
    refund = event["data"]["refund"]
    account_id = refund["account_id"]
    crms = _crms_knowing(run, account_id)
    if not crms:
        return {"crm_accounts": {}}
    fields = refund_fields(refund, event.get("time"))
    source = _source(event)
    if run.services.connection(source).can("read_receivables"):
        receivables = _read(run, source, "read_receivables", account_id)
        fields |= standing_fields(receivables, run.services.settings.lifecycle.dunning)
    written = {
        crm.name: _write(run, crm, "update_account_billing", account_id, fields)["native_id"]
        for crm in crms
    }
    return {"crm_accounts": written}
