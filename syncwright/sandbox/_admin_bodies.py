"""Request bodies of the ``/_sandbox`` switches several emulators share (not any vendor's API):
a fault plan and a customer's payment behaviour."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from syncwright.sandbox._faults import FaultPlan

__all__ = ["FaultPlanBody", "PaymentBehaviourBody"]


class FaultPlanBody(BaseModel):
    """``POST /_sandbox/faults``: what :class:`FaultPlan` takes; writes fail by default."""

    latency_ms: float = Field(0.0, ge=0)
    error_5xx_rate: float = Field(0.0, ge=0, le=1)
    timeout_rate: float = Field(0.0, ge=0, le=1)
    lost_response_rate: float = Field(0.0, ge=0, le=1)
    stall_seconds: float = Field(30.0, ge=0)
    only_methods: list[str] = Field(default_factory=lambda: ["POST", "PUT", "PATCH", "DELETE"])
    seed: int | None = None

    def plan(self) -> FaultPlan:
        return FaultPlan(
            **{
                **self.model_dump(),
                "only_methods": frozenset(m.upper() for m in self.only_methods),
            }
        )


class PaymentBehaviourBody(BaseModel):
    """``POST /_sandbox/customers/{id}/payment_behavior``: charges fail, succeed, or (None)
    follow the payment method's test behaviour."""

    behavior: Literal["fail", "succeed"] | None = None
