"""What a step and a workflow body see of the run they are part of."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class StepContext:
    """Handed to every step function as its first argument.

    ``idempotency_key`` is derived from (workflow id, step name), so every retry of the same step
    -- in this process or after a crash -- sends the same key to the vendor.
    """

    workflow_id: str
    workflow: str
    step: str
    attempt: int
    correlation_id: str
    entity_key: str
    timeout_seconds: float
    services: Any

    @property
    def idempotency_key(self) -> str:
        return f"{self.workflow_id}:{self.step}"
