"""What a step and a workflow body see of the run they are part of."""

from __future__ import annotations

from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

# The run this thread executes, as (correlation id, workflow id): set around each run body and
# copied into its steps' threads, so that whatever logs there can say which run it was.
current_run: ContextVar[tuple[str, str] | None] = ContextVar("syncwright_run", default=None)


@dataclass(frozen=True)
class StepContext:
    """Handed to every step function as its first argument.

    ``idempotency_key`` is derived from (workflow id, step name), so every retry of the same step
    -- in this process or after a crash -- sends the same key to the vendor.

    ``audit_writes`` collects the financially relevant writes the step declares
    (``connectors.audit_write``); the runtime hook records them in the audit trail when the
    attempt (or probe, or compensation) ends, succeeded or not.
    """

    workflow_id: str
    workflow: str
    step: str
    attempt: int
    correlation_id: str
    entity_key: str
    timeout_seconds: float
    services: Any
    audit_writes: list[dict[str, Any]] = field(default_factory=list, compare=False, repr=False)

    @property
    def idempotency_key(self) -> str:
        return f"{self.workflow_id}:{self.step}"
