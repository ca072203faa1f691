"""What ``connections.*.limits.retry`` and ``workflows.*`` configure, in the engine's terms,
and the check that every configured workflow name is a registered workflow."""

from __future__ import annotations

from syncwright.config import Settings
from syncwright.engine import RetryPolicy, WorkflowLimits, registered_workflows

__all__ = ["connection_retry", "unknown_workflow_problems", "workflow_limits"]


def connection_retry(settings: Settings) -> dict[str, RetryPolicy]:
    """Connection name -> the retry policy of every step acting on it, for the connections
    whose ``limits.retry`` is written in the config (keys left out take their documented
    defaults). Connections without one leave each step its own declared policy."""
    return {
        name: RetryPolicy(
            max_attempts=conn.limits.retry.max_attempts,
            base_delay_seconds=conn.limits.retry.base_delay_seconds,
            max_delay_seconds=conn.limits.retry.max_delay_seconds,
        )
        for name, conn in settings.connections.items()
        if "retry" in conn.limits.model_fields_set
    }


def workflow_limits(settings: Settings) -> dict[str, WorkflowLimits]:
    return {
        name: WorkflowLimits(
            queue_concurrency=configured.queue_concurrency,
            timeout_seconds=configured.timeout_seconds,
            priority=configured.priority,
        )
        for name, configured in settings.workflows.items()
    }


def unknown_workflow_problems(settings: Settings) -> list[str]:
    """One problem per ``workflows:`` key that names no registered workflow."""
    from syncwright.runtime import load_workflow_modules  # registers the workflows

    load_workflow_modules()
    known = sorted(registered_workflows())
    return [
        f"workflows.{name}: unknown workflow; use one of: {', '.join(known)}"
        for name in settings.workflows
        if name not in known
    ]
