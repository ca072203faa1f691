"""The dispatcher marks a pass's rows together, at the end of the pass: a poisoned row among
them is parked alone, and a crash before that one commit loses and duplicates nothing."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from syncwright.config import load_settings
from syncwright.intake.dispatcher import Dispatcher
from syncwright.runtime import Runtime
from syncwright.store.tables import inbox
from syncwright.xref import CrossReference
from tests._support import customer_event, write_config


@pytest.fixture
def runtime(tmp_path: Path, db_url: str) -> Iterator[Runtime]:
    config = write_config(tmp_path, db_url=db_url, erp_url="http://127.0.0.1:9")
    with Runtime(load_settings(config)) as started:
        started.start_engine(run_workflows=False)  # enqueue only: the runs stay queued
        yield started


def _deliver(runtime: Runtime, event_id: str, body: bytes) -> int:
    accepted = runtime.inbox.accept(
        connection="shop",
        vendor_event_id=event_id,
        event_type="customer.updated",
        body=body.decode(),
    )
    assert accepted.inbox_id is not None
    return accepted.inbox_id


def _status(runtime: Runtime, inbox_id: int) -> str:
    row = runtime.inbox.get(inbox_id)
    assert row is not None
    return row.status


def test_a_poisoned_row_is_parked_and_its_neighbours_dispatched(runtime: Runtime) -> None:
    first = _deliver(runtime, "evt_1", customer_event("evt_1", "cust_1"))
    poison = _deliver(runtime, "evt_p", b'{"id": "evt_p", "type": "customer.updated"}')
    last = _deliver(runtime, "evt_2", customer_event("evt_2", "cust_2"))
    report = Dispatcher(runtime).dispatch_pending()
    assert (report.dispatched, report.parked, report.workflows_started) == (2, 1, 2)
    assert [_status(runtime, i) for i in (first, poison, last)] == [
        "dispatched",
        "parked",
        "dispatched",
    ]
    [record] = runtime.exceptions.list()
    assert record.inbox_id == poison
    assert runtime.engine is not None
    assert sorted(runtime.engine.statuses().values()) == ["ENQUEUED", "ENQUEUED"]
    # The ids the good rows minted were written with the gate's decisions; the poisoned
    # row's transaction never ran (it failed in normalize).
    fresh = CrossReference(runtime.db)  # no cache: what the database holds
    assert fresh.global_id_for("account", "shop", "cust_1") is not None
    assert fresh.global_id_for("account", "shop", "cust_2") is not None


def test_a_crash_before_the_rows_are_marked_starts_nothing_twice(runtime: Runtime) -> None:
    ids = [_deliver(runtime, f"evt_{n}", customer_event(f"evt_{n}", f"cust_{n}")) for n in range(5)]
    dispatcher = Dispatcher(runtime)
    assert dispatcher.dispatch_pending().workflows_started == 5
    assert runtime.engine is not None
    runs = runtime.engine.statuses()
    # What a crash between the enqueues and the pass's one commit leaves: every run enqueued,
    # every row still pending.
    with runtime.db.engine.begin() as conn:
        conn.execute(sa.update(inbox).where(inbox.c.id.in_(ids)).values(status="pending"))
    again = dispatcher.dispatch_pending()
    assert again.dispatched == 5 and again.parked == 0
    assert runtime.engine.statuses() == runs  # the same five runs, none added
    assert {_status(runtime, i) for i in ids} == {"dispatched"}
    assert runtime.exceptions.count_open() == 0
