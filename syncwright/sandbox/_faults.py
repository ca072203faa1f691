"""Fault injection shared by every emulator: latency, 5xx, timeouts, lost responses.

Vendor-specific faults (429 bodies and headers, concurrency governance) live in each emulator,
because their shapes differ per vendor; the dice and the switches live here so a test can say
"5 % of NetSuite writes fail" the same way for every vendor.
"""

from __future__ import annotations

import asyncio
import random
import threading
from dataclasses import dataclass, field
from typing import Literal

FaultKind = Literal["none", "error_5xx", "timeout", "lost_response"]


@dataclass
class FaultPlan:
    """Switches for one emulator. Rates are probabilities in [0, 1] drawn per request.

    - ``latency_ms``: added to every request.
    - ``error_5xx_rate``: answer 5xx *before* applying the request.
    - ``timeout_rate``: stall ``stall_seconds`` before applying (the client gives up first).
    - ``lost_response_rate``: apply a write, then stall ``stall_seconds`` so the response is
      lost to a client with a shorter timeout -- the "committed but unknown" case.
    - ``only_methods``: restrict faults to these HTTP methods (default: writes only).
    """

    latency_ms: float = 0.0
    error_5xx_rate: float = 0.0
    timeout_rate: float = 0.0
    lost_response_rate: float = 0.0
    stall_seconds: float = 30.0
    only_methods: frozenset[str] = field(
        default_factory=lambda: frozenset({"POST", "PUT", "PATCH", "DELETE"})
    )
    seed: int | None = None


class FaultInjector:
    """Draws faults for requests according to a mutable :class:`FaultPlan`."""

    def __init__(self, plan: FaultPlan | None = None) -> None:
        self.plan = plan or FaultPlan()
        self._rng = random.Random(self.plan.seed)
        self._lock = threading.Lock()
        self.injected: dict[str, int] = {"error_5xx": 0, "timeout": 0, "lost_response": 0}

    def configure(self, plan: FaultPlan) -> None:
        with self._lock:
            self.plan = plan
            self._rng = random.Random(plan.seed)

    def draw(self, method: str) -> FaultKind:
        """Decide the fault for one request; counts what it injects."""
        plan = self.plan
        if method.upper() not in plan.only_methods:
            return "none"
        with self._lock:
            roll = self._rng.random()
        for kind, rate in (
            ("error_5xx", plan.error_5xx_rate),
            ("timeout", plan.timeout_rate),
            ("lost_response", plan.lost_response_rate),
        ):
            if roll < rate:
                with self._lock:
                    self.injected[kind] += 1
                return kind  # type: ignore[return-value]
            roll -= rate
        return "none"

    async def delay(self) -> None:
        if self.plan.latency_ms > 0:
            await asyncio.sleep(self.plan.latency_ms / 1000)

    async def stall(self) -> None:
        await asyncio.sleep(self.plan.stall_seconds)
