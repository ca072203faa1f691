"""Several stores' writes in one transaction (``Database.begin``): they commit once, together,
or not at all -- and no in-memory cache keeps what a rollback took back. Both databases."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa

from syncwright.connectors._base.steps import audit_write
from syncwright.engine import StepContext
from syncwright.exceptions import ExceptionQueue
from syncwright.ledger import AuditTrail, Ledger, LedgerEntry
from syncwright.policy import PolicyStore
from syncwright.runtime_hooks import LedgerHooks
from syncwright.store import Database
from syncwright.store.tables import ledger as ledger_table
from syncwright.xref import CrossReference, MintRace


def _db(db_url: str) -> Database:
    db = Database(db_url)
    db.upgrade()
    return db


def _open(exceptions: ExceptionQueue, workflow_id: str) -> str:
    return exceptions.open(
        source="workflow",
        correlation_id="cor_j",
        code="test.parked",
        message="parked for the test",
        remediation="none",
        workflow_id=workflow_id,
        step="s1",
    )


def test_writes_of_several_stores_commit_once_together(db_url: str) -> None:
    db = _db(db_url)
    ledger, xref, exceptions = Ledger(db), CrossReference(db), ExceptionQueue(db)
    before = db.statements.counts()
    with ledger.transaction():
        ledger.append(LedgerEntry(correlation_id="cor_j", step="s1", outcome="ok"))
        xref.link("account", "acct_j", "erp", "C1")
        record = _open(exceptions, "wf_j")
        ledger.append(LedgerEntry(correlation_id="cor_j", step="s2", outcome="ok"))
        # Reads inside the transaction see its own writes.
        assert exceptions.get(record) is not None
        assert len(ledger.for_correlation("cor_j")) == 2
    after = db.statements.counts()
    assert after.commits - before.commits == 1
    assert [e.step for e in Ledger(db).for_correlation("cor_j")] == ["s1", "s2"]
    assert CrossReference(db).native_id_for("account", "acct_j", "erp") == "C1"
    assert ExceptionQueue(db).get(record) is not None
    db.dispose()


def test_a_failure_takes_back_every_store_and_leaves_no_cached_link(db_url: str) -> None:
    db = _db(db_url)
    ledger, xref, exceptions = Ledger(db), CrossReference(db), ExceptionQueue(db)
    with pytest.raises(RuntimeError, match="step failed"), ledger.transaction():
        ledger.append(LedgerEntry(correlation_id="cor_r", step="s1", outcome="ok"))
        xref.link("account", "acct_r", "erp", "C9")
        minted = xref.resolve("account", "shop", "cust_r")
        _open(exceptions, "wf_r")
        raise RuntimeError("step failed")
    assert ledger.for_correlation("cor_r") == []
    assert exceptions.count_open() == 0
    # The same store object: its cache must not answer with links the rollback removed.
    assert xref.native_id_for("account", "acct_r", "erp") is None
    assert xref.global_id_for("account", "shop", "cust_r") is None
    with db.engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(ledger_table)).scalar() == 0
    # Minting again after the rollback links a fresh id, durably.
    again = xref.resolve("account", "shop", "cust_r")
    assert again != minted
    assert CrossReference(db).global_id_for("account", "shop", "cust_r") == again
    db.dispose()


def test_commit_callbacks_wait_for_the_outer_commit(db_url: str) -> None:
    db = _db(db_url)
    ran: list[str] = []
    db.after_commit(lambda: ran.append("no transaction: at once"))
    assert ran == ["no transaction: at once"]
    with db.begin():
        with db.begin():  # joins the outer one
            db.after_commit(lambda: ran.append("inner"))
        assert ran == ["no transaction: at once"]
    assert ran == ["no transaction: at once", "inner"]
    db.dispose()


def test_a_second_write_transaction_in_one_thread_fails_at_once(tmp_path: Path) -> None:
    """On SQLite it could only wait for itself: it fails with a message saying what to do."""
    db = _db(f"sqlite:///{tmp_path / 'joined.db'}")
    with db.begin() as conn:
        row = {"correlation_id": "c", "step": "s", "outcome": "ok", "attempt": 1}
        conn.execute(sa.insert(ledger_table).values(**row, at=sa.func.now()))
        with pytest.raises(RuntimeError, match=r"Database\.begin\(\)"), db.engine.begin() as other:
            other.execute(sa.delete(ledger_table))
    with db.engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(ledger_table)).scalar() == 1
    db.dispose()


def _step(workflow_id: str, step: str) -> StepContext:
    return StepContext(
        workflow_id=workflow_id,
        workflow="billing.invoice_to_erp",
        step=step,
        attempt=1,
        correlation_id=f"cor_{workflow_id}",
        entity_key="acct_1",
        timeout_seconds=5.0,
        services=None,
    )


def test_a_step_report_is_one_write_transaction(db_url: str) -> None:
    """Ledger row, audit entry, superseded exception and remembered fields of one attempt."""
    db = _db(db_url)
    ledger, exceptions, audit = Ledger(db), ExceptionQueue(db), AuditTrail(db)
    hooks = LedgerHooks(ledger, exceptions, audit=audit, policy=PolicyStore(db))
    parked = exceptions.open(
        source="workflow",
        correlation_id="cor_wf_old",
        code="netsuite.rejected",
        message="an earlier run parked on this invoice",
        remediation="retry",
        workflow_id="wf_old",
        step="netsuite.upsert_invoice",
        connection="netsuite",
        record="inv_1",
    )
    ctx = _step("wf_new", "netsuite.upsert_invoice")
    audit_write(ctx, "netsuite", "netsuite.invoice.upsert", "77", {"total": 100}, amount_minor=100)
    touched = {
        "connection": "netsuite",
        "entity_type": "invoice",
        "global_id": "inv_1",
        "native_ids": {"netsuite": "77"},
        "fields": {"total": "digest-of-100"},
    }
    before = db.statements.counts()
    hooks.attempt_finished(ctx, "ok", None, 12.5, {"ledger": touched})
    assert db.statements.counts().commits - before.commits == 1
    assert [e.outcome for e in ledger.for_workflow("wf_new")] == ["ok"]
    assert [e["native_id"] for e in audit.entries()] == ["77"]
    record = exceptions.get(parked)
    assert record is not None and record.status == "resolved"
    with db.connect() as conn:
        assert PolicyStore.written(conn, "netsuite", "invoice", "inv_1") == {
            "total": "digest-of-100"
        }
    db.dispose()


def test_ids_minted_in_memory_lose_a_race_loudly(db_url: str) -> None:
    """The dispatcher mints a delivery's new ids in memory and writes them with the policy
    gate's decisions; if another process linked one first, the write says so (and the
    dispatcher normalizes the delivery again): no id of the loser is ever used or cached."""
    db = _db(db_url)
    xref, other = CrossReference(db), CrossReference(db)
    with xref.deferred() as minted:
        ours = xref.resolve("account", "shop", "cust_m")
        assert xref.resolve("account", "shop", "cust_m") == ours  # answered from memory
        assert xref.native_id_for("account", ours, "shop") == "cust_m"
    theirs = other.resolve("account", "shop", "cust_m")
    with pytest.raises(MintRace), db.begin() as conn:
        xref.write_minted(conn, minted)
    assert xref.global_id_for("account", "shop", "cust_m") == theirs != ours
    with xref.deferred() as minted:
        fresh = xref.resolve("account", "shop", "cust_n")
    with db.begin() as conn:
        xref.write_minted(conn, minted)
    assert other.global_id_for("account", "shop", "cust_n") == fresh
    db.dispose()
