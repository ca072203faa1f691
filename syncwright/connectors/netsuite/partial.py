"""Partial updates: a record syncwright already wrote gets a PATCH of only the body fields that
changed since; an unchanged re-sync sends nothing.

NetSuite's REST record service updates exactly the fields a PATCH body names (Oracle: "Updating
a Record", https://docs.oracle.com/en/cloud/saas/netsuite/ns-online-help/section_1545222128.html),
so a field another user edited in NetSuite is not overwritten by a re-sync that did not change
it. What we last wrote is remembered per record and body field, as digests, in the policy
module's write memory under the entity type ``netsuite.<record type>`` (apart from the canonical
fields echo suppression compares). Only a successful write is remembered: after an uncertain
outcome the next attempt sends the fields again, which PATCH makes harmless.

A PATCH addresses the record by our external id (``eid:``, Oracle: "Using External IDs",
section_156334828635), like the upsert does, so it reaches the record NetSuite holds for our id
now. The first write of a record, any record with nothing remembered, and a record NetSuite no
longer has (deleted there) get the full-body upsert by external id (PUT ``eid:``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from syncwright.engine import StepContext
from syncwright.errors import BusinessRuleError
from syncwright.ledger import request_digest
from syncwright.policy import PolicyStore

if TYPE_CHECKING:
    from syncwright.connectors.netsuite.connector import NetSuiteConnector
    from syncwright.connectors.netsuite.mapping import NetSuiteRecord

__all__ = ["Written", "write_record"]

MEMORY_PREFIX = "netsuite."
# NetSuite's error code for an internal id it does not have (404).
_GONE = "netsuite.NONEXISTENT_ID"


@dataclass(frozen=True)
class Written:
    """What :func:`write_record` did: the record's internal id, how it wrote, what it sent."""

    native_id: str
    how: Literal["upsert", "patch", "unchanged"]
    sent: dict[str, Any]


def write_record(
    ctx: StepContext, connector: NetSuiteConnector, record: NetSuiteRecord, native_id: str | None
) -> Written:
    """Upsert ``record`` (``native_id``: its internal id when already linked), sending only
    what changed since syncwright last wrote it."""
    store: PolicyStore = ctx.services.policy_store
    memory = MEMORY_PREFIX + record.record_type
    digests = {key: request_digest(value) for key, value in record.body.items()}
    if native_id is not None:
        with store.begin() as conn:
            written = PolicyStore.written(conn, connector.name, memory, record.external_id)
        if written:
            changed = {k: v for k, v in record.body.items() if written.get(k) != digests[k]}
            if not changed:
                return Written(native_id, "unchanged", {})
            try:
                connector.client.update(record.record_type, f"eid:{record.external_id}", changed)
            except BusinessRuleError as exc:
                if exc.code != _GONE:
                    raise
                # Deleted in NetSuite: the upsert below creates it again.
            else:
                _remember(ctx, store, connector.name, memory, record, digests, changed)
                return Written(native_id, "patch", changed)
    new_id = connector.client.upsert_by_external_id(
        record.record_type, record.external_id, record.body
    )
    _remember(ctx, store, connector.name, memory, record, digests, record.body)
    return Written(new_id, "upsert", dict(record.body))


def _remember(
    ctx: StepContext,
    store: PolicyStore,
    connection: str,
    memory: str,
    record: NetSuiteRecord,
    digests: dict[str, str],
    sent: dict[str, Any],
) -> None:
    store.remember_writes(
        connection,
        memory,
        record.external_id,
        {key: digests[key] for key in sent},
        workflow_id=ctx.workflow_id,
    )
