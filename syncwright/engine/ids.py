"""Workflow ids. DBOS dedupes on them (same id = same workflow), and on SQLite its partitioned
queues keep per-key order only if ids sort in arrival order -- so ids lead with the inbox
sequence number, zero-padded."""

from __future__ import annotations


def workflow_id_for(inbox_id: int, event_index: int, workflow: str) -> str:
    return f"wf-{inbox_id:012d}-{event_index:03d}-{workflow}"


def workflow_prefix_for(inbox_id: int) -> str:
    """The common beginning of every workflow id one inbox row started."""
    return f"wf-{inbox_id:012d}-"


# A replay that starts again from a step is a fork of the original run under a new correlation
# id; the id carries it (``...~<correlation id>``), so the run knows it without a database read.
_REPLAY_MARK = "~"


def replay_fork_id(inbox_id: int, event_index: int, workflow: str, correlation_id: str) -> str:
    """The id of a fork made for a replay: it sorts with the replay's own inbox row."""
    return f"{workflow_id_for(inbox_id, event_index, workflow)}{_REPLAY_MARK}{correlation_id}"


def replay_correlation_id(workflow_id: str) -> str | None:
    """The correlation id a replay fork runs under, or None for any other run."""
    head, mark, correlation_id = workflow_id.rpartition(_REPLAY_MARK)
    return correlation_id if mark and head else None
