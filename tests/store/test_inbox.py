"""The inbox on both databases: one row per vendor event, arrival order, parking, requeue."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from syncwright.intake import Inbox
from syncwright.store import Database


def _inbox(db_url: str) -> tuple[Database, Inbox]:
    db = Database(db_url)
    db.upgrade()
    return db, Inbox(db)


def test_duplicate_vendor_event_is_stored_once(db_url: str) -> None:
    db, inbox = _inbox(db_url)
    first = inbox.accept(connection="shop", vendor_event_id="evt_1", event_type="t", body="{}")
    again = inbox.accept(connection="shop", vendor_event_id="evt_1", event_type="t", body="{}")
    other = inbox.accept(connection="erp", vendor_event_id="evt_1", event_type="t", body="{}")
    assert not first.duplicate and first.inbox_id is not None
    assert again.duplicate and again.inbox_id is None
    assert not other.duplicate  # the same id from another connection is another event
    assert inbox.count() == 2
    db.dispose()


def test_concurrent_duplicates_store_one_row(db_url: str) -> None:
    db, inbox = _inbox(db_url)

    def accept(_: int) -> bool:
        result = inbox.accept(connection="shop", vendor_event_id="evt_x", event_type="t", body="{}")
        return result.duplicate

    with ThreadPoolExecutor(8) as pool:
        duplicates = list(pool.map(accept, range(200)))
    assert duplicates.count(False) == 1
    assert inbox.count() == 1
    db.dispose()


def test_pending_is_arrival_order_and_park_requeue_resolve(db_url: str) -> None:
    db, inbox = _inbox(db_url)
    ids = [
        inbox.accept(connection="shop", vendor_event_id=f"e{n}", event_type="t", body="{}").inbox_id
        for n in range(5)
    ]
    assert [row.id for row in inbox.pending()] == ids
    inbox.mark_dispatched(ids[0])
    inbox.park(ids[1], "cannot map")
    assert [row.id for row in inbox.pending()] == ids[2:]
    parked = inbox.get(ids[1])
    assert parked is not None and parked.status == "parked" and parked.last_error == "cannot map"
    inbox.requeue(ids[1])
    assert [row.id for row in inbox.pending()] == ids[1:]
    inbox.resolve(ids[1])
    assert inbox.count("resolved") == 1
    db.dispose()


def test_credential_headers_are_not_stored(db_url: str) -> None:
    db, inbox = _inbox(db_url)
    inbox.accept(
        connection="shop",
        vendor_event_id="e",
        event_type="t",
        body="{}",
        headers={"Authorization": "Basic c2VjcmV0", "Stripe-Signature": "t=1,v1=ab"},
    )
    import sqlalchemy as sa

    from syncwright.store.tables import inbox as inbox_table

    with db.engine.connect() as conn:
        stored = conn.execute(sa.select(inbox_table.c.headers)).scalar_one()
    assert stored == {"stripe-signature": "t=1,v1=ab"}
    db.dispose()


def test_group_commit_batch_dedupes_within_and_across_batches(db_url: str) -> None:
    db, inbox = _inbox(db_url)
    inbox.accept(connection="shop", vendor_event_id="old", event_type="t", body="{}")

    def delivery(event_id: str) -> dict[str, str]:
        return {"connection": "shop", "vendor_event_id": event_id, "event_type": "t", "body": "{}"}

    results = inbox.accept_many(
        [delivery("a"), delivery("old"), delivery("b"), delivery("a"), delivery("c")]
    )
    assert [r.duplicate for r in results] == [False, True, False, True, False]
    fresh = [r.inbox_id for r in results if not r.duplicate]
    assert [row.id for row in inbox.pending()][1:] == fresh  # arrival order kept
    assert all(r.correlation_id for r in results if not r.duplicate)
    assert inbox.count() == 4
    db.dispose()
