"""An invoice for a customer NetSuite does not have yet waits (status ``waiting``) instead of
needing a person; once the customer appears in NetSuite, the worker's dependency check retries
it and the run finishes: the invoice is booked, audited once, the exception resolved."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from syncwright.connectors.netsuite.mapping import customer_record
from syncwright.connectors.netsuite.outbound import upsert_invoice
from syncwright.engine import WorkflowRun, workflow
from syncwright.exceptions.watcher import WATCHER_ACTOR, DependencyWatcher
from syncwright.model import Account
from syncwright.store.tables import audit
from tests._support import wait_until

if TYPE_CHECKING:
    from tests.connectors.netsuite.conftest import NsWorld


@workflow("test.ns_invoice")  # started by the test only
def ns_invoice(run: WorkflowRun, event: dict[str, Any]) -> dict[str, Any]:
    result: dict[str, Any] = run.step("erp.invoice", upsert_invoice, "netsuite", event["invoice"])
    return result


def test_a_missing_customer_waits_and_the_worker_retries_when_it_appears(
    ns_world: NsWorld,
) -> None:
    runtime = ns_world.runtime
    engine = runtime.start_engine()
    watcher = DependencyWatcher(runtime, engine)
    invoice = ns_world.invoice("inv_wait", "acct_wait", [("price_std", 1, 1000)], tax_minor=200)
    engine.enqueue(
        "test.ns_invoice",
        workflow_id="wf-ns-wait",
        entity_key="account:acct_wait",
        correlation_id="cor_wait",
        event={"invoice": invoice},
    )
    wait_until(lambda: runtime.exceptions.count_open() == 1, what="the run to park")
    [record] = runtime.exceptions.list()
    assert record.status == "waiting"
    assert (record.error_class, record.code) == (
        "missing_reference",
        "netsuite.customer_not_synced",
    )
    assert (record.connection, record.record) == ("netsuite", "inv_wait")
    assert record.waiting_on == {
        "entity_type": "account",
        "global_id": "acct_wait",
        "system": "netsuite",
        "record_type": "customer",
    }
    # Not there yet: the check leaves it waiting, to look again one interval later.
    assert watcher.check_due() == 0
    again = runtime.exceptions.get(record.id)
    assert again is not None and again.status == "waiting"
    first_check, next_check = record.next_check_at, again.next_check_at
    assert first_check is not None and next_check is not None and next_check > first_check

    # Someone creates the customer in NetSuite (not through syncwright: no cross-reference).
    account = Account.model_validate(ns_world.account("acct_wait"))
    customer = customer_record(account, ns_world.connector.options)
    with ns_world.emulator.client() as netsuite:
        netsuite.upsert_by_external_id("customer", customer.external_id, customer.body)
    runtime.exceptions.recheck_later(record.id, again.created_at)  # due now, not in 30 s
    assert watcher.check_due() == 1
    wait_until(lambda: engine.statuses().get("wf-ns-wait") == "SUCCESS", what="the run to finish")
    done = runtime.exceptions.get(record.id)
    assert done is not None and done.status == "resolved"
    assert done.resolution == "retried successfully"
    assert [e["actor"] for e in runtime.exceptions.history(record.id)][-2:] == [
        WATCHER_ACTOR,
        "syncwright",
    ]
    booked = ns_world.state.find_by_external_id("invoice", "inv_wait")
    assert booked is not None
    # The invoice write went to the audit trail through the runtime hook, once.
    with runtime.db.engine.connect() as conn:
        rows = conn.execute(sa.select(audit.c.kind, audit.c.action, audit.c.actor)).all()
    assert sorted(map(tuple, rows)) == [
        ("operator", "exceptions.retry", WATCHER_ACTOR),
        ("write", "netsuite.invoice.upsert", None),
    ]
    assert runtime.audit.verify().ok


def test_a_posting_in_a_closed_period_waits_until_the_period_reopens(ns_world: NsWorld) -> None:
    runtime = ns_world.runtime
    engine = runtime.start_engine()
    watcher = DependencyWatcher(runtime, engine)
    account = Account.model_validate(ns_world.account("acct_closed"))
    customer = customer_record(account, ns_world.connector.options)
    with ns_world.emulator.client() as netsuite:
        netsuite.upsert_by_external_id("customer", customer.external_id, customer.body)
        # Finance closed February 2026 (the invoice is dated 2026-02-01); March is open.
        february = netsuite.create(
            "accountingPeriod",
            {
                "periodName": "Feb 2026",
                "startDate": "2026-02-01",
                "endDate": "2026-02-28",
                "closed": True,
                "arLocked": True,
            },
        )
        netsuite.create(
            "accountingPeriod",
            {"periodName": "Mar 2026", "startDate": "2026-03-01", "endDate": "2026-03-31"},
        )
    invoice = ns_world.invoice("inv_closed", "acct_closed", [("price_std", 1, 1000)])
    assert invoice["issue_date"] == "2026-02-01"
    engine.enqueue(
        "test.ns_invoice",
        workflow_id="wf-ns-closed",
        entity_key="account:acct_closed",
        correlation_id="cor_closed",
        event={"invoice": invoice},
    )
    wait_until(lambda: runtime.exceptions.count_open() == 1, what="the run to park")
    [record] = runtime.exceptions.list()
    assert (record.status, record.code) == ("waiting", "netsuite.period_closed")
    assert record.waiting_on == {"check": "accounting_period_open", "date": "2026-02-01"}
    assert "Feb 2026 is closed" in record.message and "reopens it" in record.remediation
    assert ns_world.state.find_by_external_id("invoice", "inv_closed") is None
    # Still closed: the check leaves it waiting.
    assert watcher.check_due() == 0
    still = runtime.exceptions.get(record.id)
    assert still is not None and still.status == "waiting"

    # Finance reopens February (the REST record's own fields).
    with ns_world.emulator.client() as netsuite:
        netsuite.update("accountingPeriod", february, {"closed": False, "arLocked": False})
    runtime.exceptions.recheck_later(record.id, still.created_at)  # due now, not in 30 s
    assert watcher.check_due() == 1
    wait_until(lambda: engine.statuses().get("wf-ns-closed") == "SUCCESS", what="the run to finish")
    done = runtime.exceptions.get(record.id)
    assert done is not None and done.status == "resolved"
    booked = ns_world.state.find_by_external_id("invoice", "inv_closed")
    assert booked is not None and booked["postingPeriod"] == february
