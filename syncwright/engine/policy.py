"""Step policies: timeout and retry with exponential backoff, full jitter, and Retry-After."""

from __future__ import annotations

import random
from collections.abc import Mapping
from dataclasses import dataclass, field, replace


@dataclass(frozen=True)
class RetryPolicy:
    """``max_attempts`` counts the first try. Delays grow ``base * 2**(n-1)`` up to ``max``.

    A vendor's Retry-After wins over our own schedule when it asks for longer (it knows its
    limits better than we do), but never beyond ``max_retry_after_seconds``.
    """

    max_attempts: int = 5
    base_delay_seconds: float = 0.5
    max_delay_seconds: float = 60.0
    max_retry_after_seconds: float = 600.0
    jitter: bool = True

    def delay(
        self, attempt: int, retry_after: float | None = None, rng: random.Random | None = None
    ) -> float:
        """Seconds to wait after failed ``attempt`` (1-based) before the next one."""
        ceiling = min(self.max_delay_seconds, self.base_delay_seconds * 2 ** (attempt - 1))
        # Full jitter (AWS architecture blog): spreads retries of many workers over the window.
        chosen = (rng or random).uniform(ceiling / 2, ceiling) if self.jitter else ceiling
        if retry_after is not None:
            chosen = max(chosen, min(retry_after, self.max_retry_after_seconds))
        return chosen


@dataclass(frozen=True)
class StepPolicy:
    """Every step states its timeout and retry policy explicitly (DESIGN.md section 6)."""

    timeout_seconds: float = 30.0
    retry: RetryPolicy = field(default_factory=RetryPolicy)


def policy_for(
    declared: StepPolicy | None, connection: str | None, retries: Mapping[str, RetryPolicy]
) -> StepPolicy:
    """The policy a step runs under. Precedence: a retry policy configured for the step's
    connection (``connections.<name>.limits.retry``) replaces the step's declared retry policy;
    otherwise the step's declared policy applies; a step that declares none gets the defaults.
    The timeout always stays the step's own: the connection's request timeout is applied by its
    HTTP client, and a step may make several requests."""
    policy = declared or StepPolicy()
    configured = retries.get(connection) if connection is not None else None
    return policy if configured is None else replace(policy, retry=configured)
