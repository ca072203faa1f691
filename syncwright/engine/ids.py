"""Workflow ids. DBOS dedupes on them (same id = same workflow), and on SQLite its partitioned
queues keep per-key order only if ids sort in arrival order -- so ids lead with the inbox
sequence number, zero-padded."""

from __future__ import annotations


def workflow_id_for(inbox_id: int, event_index: int, workflow: str) -> str:
    return f"wf-{inbox_id:012d}-{event_index:03d}-{workflow}"


def workflow_prefix_for(inbox_id: int) -> str:
    """The common beginning of every workflow id one inbox row started."""
    return f"wf-{inbox_id:012d}-"
