"""Ledger, cross-reference and the audit chain, on both databases."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import sqlalchemy as sa

from syncwright.ledger import Ledger, LedgerEntry, request_digest
from syncwright.store import Database
from syncwright.xref import CrossReference


def _db(db_url: str) -> Database:
    db = Database(db_url)
    db.upgrade()
    return db


def test_ledger_groups_attempts_by_correlation(db_url: str) -> None:
    db = _db(db_url)
    ledger = Ledger(db)
    ledger.append(LedgerEntry(correlation_id="cor_a", step="s1", outcome="transient", attempt=1))
    ledger.append(
        LedgerEntry(
            correlation_id="cor_a", step="s1", outcome="ok", attempt=2, native_ids={"erp": "C1"}
        )
    )
    ledger.append(LedgerEntry(correlation_id="cor_b", step="s1", outcome="ok"))
    rows = ledger.for_correlation("cor_a")
    assert [(r.attempt, r.outcome) for r in rows] == [(1, "transient"), (2, "ok")]
    assert rows[1].native_ids == {"erp": "C1"}
    assert rows[0].at is not None and rows[0].at.tzinfo is not None
    db.dispose()


def test_request_digest_is_stable_and_order_independent() -> None:
    assert request_digest({"a": 1, "b": [1, 2]}) == request_digest({"b": [1, 2], "a": 1})
    assert request_digest({"a": 1}) != request_digest({"a": 2})


def test_xref_resolves_one_global_id_under_concurrency(db_url: str) -> None:
    db = _db(db_url)
    xref = CrossReference(db)
    with ThreadPoolExecutor(8) as pool:
        ids = set(pool.map(lambda _: xref.resolve("account", "shop", "cust_1"), range(40)))
    assert len(ids) == 1
    global_id = ids.pop()
    xref.link("account", global_id, "erp", "C000001")
    xref.link("account", global_id, "erp", "C000001")  # idempotent
    assert xref.links("account", global_id) == {"shop": "cust_1", "erp": "C000001"}
    assert xref.native_id_for("account", global_id, "erp") == "C000001"
    assert xref.global_id_for("account", "erp", "C000001") == global_id
    assert xref.global_id_for("account", "erp", "nope") is None
    db.dispose()


def _count_statements(db: Database) -> list[str]:
    statements: list[str] = []

    @sa.event.listens_for(db.engine, "before_cursor_execute")
    def _seen(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
        statements.append(statement)

    return statements


def test_xref_answers_known_links_from_memory_and_misses_from_the_database(db_url: str) -> None:
    db = _db(db_url)
    xref, other_process = CrossReference(db), CrossReference(db)
    global_id = xref.resolve("account", "shop", "cust_9")
    xref.link("account", global_id, "erp", "C9")
    statements = _count_statements(db)
    assert xref.resolve("account", "shop", "cust_9") == global_id
    assert xref.global_id_for("account", "erp", "C9") == global_id
    assert xref.native_id_for("account", global_id, "erp") == "C9"
    xref.link("account", global_id, "erp", "C9")  # known: nothing to write
    assert statements == []
    # A link written elsewhere is found: misses always ask the database.
    assert xref.native_id_for("account", global_id, "crm") is None
    other_process.link("account", global_id, "crm", "001A")
    assert xref.native_id_for("account", global_id, "crm") == "001A"
    # A refused link (the native id belongs to another entity) is not remembered as ours.
    xref.link("account", "acco_other", "erp", "C9")
    assert xref.global_id_for("account", "erp", "C9") == global_id
    db.dispose()
