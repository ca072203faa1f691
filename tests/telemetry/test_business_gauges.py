"""Business gauges on /metrics reflect what the tables hold: seeded with our own stores (the
ledger and exception queue the engine hooks write), then scraped over HTTP."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from syncwright._time import utcnow
from syncwright.exceptions import CLASSES
from syncwright.ledger import LedgerEntry
from syncwright.runtime import Runtime
from syncwright.store.tables import exceptions
from syncwright.telemetry.business import MASTER_DATA_CLASSES, business_figures
from tests._support import Stack
from tests.telemetry._metrics import scrape, value


def _step(runtime: Runtime, workflow: str, run: str, step: str, outcome: str, **kw: str) -> None:
    runtime.ledger.append(
        LedgerEntry(
            correlation_id=f"cor_{run}",
            workflow_id=run,
            workflow=workflow,
            step=step,
            outcome=outcome,
            **kw,  # type: ignore[arg-type]
        )
    )


def _park(runtime: Runtime, workflow: str, run: str, step: str, code: str, error_class: str) -> str:
    return runtime.exceptions.open(
        error_class=error_class,
        source="workflow",
        correlation_id=f"cor_{run}",
        code=code,
        message="parked",
        remediation="fix it",
        workflow_id=run,
        workflow=workflow,
        step=step,
    )


def test_parked_invoice_counts_as_blocked_by_master_data(stack: Stack) -> None:
    runtime = stack.runtime
    assert value(scrape(stack.api.url), "syncwright_invoices_blocked_by_master_data") == 0
    # Rejected by the ERP: an unmapped subsidiary.
    record = _park(
        runtime,
        "invoice.finalize_in_erp",
        "wf-1",
        "netsuite.upsert_invoice",
        "netsuite.unmapped_subsidiary",
        "missing_reference",
    )
    # Parked because NetSuite kept timing out: fixing master data would not help.
    _park(
        runtime,
        "invoice.paid_in_erp",
        "wf-2",
        "netsuite.apply_payment",
        "netsuite.timeout",
        "connection",
    )
    samples = scrape(stack.api.url)
    assert value(samples, "syncwright_invoices_blocked_by_master_data") == 1
    by_age = "syncwright_exceptions_open_by_age"
    unmapped = {"class": "missing_reference", "code": "netsuite.unmapped_subsidiary"}
    assert value(samples, by_age, **unmapped, age="lt_1h") == 1
    assert value(samples, by_age, **{"class": "connection"}, code="netsuite.timeout", age="lt_1h")

    runtime.exceptions.mark_resolved(record, "fixed")
    assert value(scrape(stack.api.url), "syncwright_invoices_blocked_by_master_data") == 0


def test_customers_in_dunning_until_paid(stack: Stack) -> None:
    runtime = stack.runtime
    dunning, paid = "invoice.dunning_in_erp", "invoice.paid_in_erp"
    for run, account in (("wf-d1", "account:a"), ("wf-d2", "account:b")):
        _step(runtime, dunning, run, "netsuite.mark_dunning", "ok", entity_key=account)
    assert value(scrape(stack.api.url), "syncwright_customers_in_dunning") == 2
    _step(runtime, paid, "wf-p1", "netsuite.apply_payment", "ok", entity_key="account:a")
    assert value(scrape(stack.api.url), "syncwright_customers_in_dunning") == 1
    # A failed payment after the payment puts the customer back in dunning.
    _step(runtime, dunning, "wf-d3", "netsuite.mark_dunning", "ok", entity_key="account:a")
    assert value(scrape(stack.api.url), "syncwright_customers_in_dunning") == 2


def test_subscriptions_pending_activation(stack: Stack) -> None:
    runtime = stack.runtime
    onboard = "deal.onboard"
    created = {"entity_type": "subscription"}
    for run in ("wf-o1", "wf-o2", "wf-o3", "wf-o4"):
        _step(runtime, onboard, run, "stripe.create_subscription", "ok", global_id=run, **created)
    # o2 was active at once: its run showed it in the CRM.
    _step(runtime, onboard, "wf-o2", "salesforce.update_account_billing", "ok")
    # o3 was rolled back.
    _step(runtime, onboard, "wf-o3", "stripe.create_subscription.compensate", "compensated")
    assert value(scrape(stack.api.url), "syncwright_subscriptions_pending_activation") == 2
    # o4's activation reached the ERP.
    _step(
        runtime,
        "subscription.activate_in_erp",
        "wf-a4",
        "netsuite.upsert_sales_order",
        "ok",
        global_id="wf-o4",
        **created,
    )
    assert value(scrape(stack.api.url), "syncwright_subscriptions_pending_activation") == 1


def test_exception_age_buckets(stack: Stack) -> None:
    runtime = stack.runtime
    ids = [
        _park(runtime, "invoice.finalize_in_erp", f"wf-{n}", "s", "netsuite.x", "value")
        for n in "abc"
    ]
    now = utcnow()
    with runtime.db.engine.begin() as conn:
        ages = (timedelta(hours=2), timedelta(days=3), timedelta(days=9))
        for record_id, age in zip(ids, ages, strict=True):
            conn.execute(
                sa.update(exceptions)
                .where(exceptions.c.id == record_id)
                .values(created_at=now - age)
            )
    samples = scrape(stack.api.url)
    for age in ("1h_1d", "1d_7d", "ge_7d"):
        labels = {"class": "value", "code": "netsuite.x", "age": age}
        assert value(samples, "syncwright_exceptions_open_by_age", **labels) == 1
    figures = business_figures(runtime.db, now=now)
    assert [(b.age, b.count) for b in figures.open_exceptions] == [
        ("1h_1d", 1),
        ("1d_7d", 1),
        ("ge_7d", 1),
    ]


def test_master_data_classes_are_exception_classes() -> None:
    assert set(MASTER_DATA_CLASSES) <= set(CLASSES)
