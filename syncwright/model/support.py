"""Support: what a customer is entitled to, and the cases they open."""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import Annotated, Self

from pydantic import Field, model_validator

from syncwright.model._base import CanonicalModel, Entity, GlobalId, NonEmptyStr, Timestamp

__all__ = [
    "CaseChannel",
    "CasePriority",
    "CaseStatus",
    "Entitlement",
    "EntitlementStatus",
    "SlaPolicy",
    "SlaTarget",
    "SupportCase",
]


class CasePriority(StrEnum):
    LOW = "low"
    NORMAL = "normal"
    HIGH = "high"
    URGENT = "urgent"


class SlaTarget(CanonicalModel):
    priority: CasePriority
    first_response_minutes: Annotated[int, Field(ge=1)]
    resolution_minutes: Annotated[int, Field(ge=1)] | None = None


class SlaPolicy(CanonicalModel):
    """Response targets per priority, as the support desk enforces them."""

    name: NonEmptyStr
    targets: tuple[SlaTarget, ...] = ()
    # Whether the clock runs only during the support desk's business hours.
    business_hours_only: bool = True

    @model_validator(mode="after")
    def _one_target_per_priority(self) -> Self:
        priorities = [t.priority for t in self.targets]
        if len(set(priorities)) != len(priorities):
            raise ValueError(f"SLA policy {self.name!r} has more than one target per priority")
        return self


class EntitlementStatus(StrEnum):
    ACTIVE = "active"
    SUSPENDED = "suspended"
    EXPIRED = "expired"


class Entitlement(Entity):
    """What support an account gets, derived from what it pays for (the subscription tier)."""

    account_id: GlobalId
    subscription_id: GlobalId | None = None
    product_id: GlobalId | None = None
    # Tier names ("standard", "premium", "enterprise") differ per business; reconciliation
    # compares them with the subscription's plan through configuration, not an enum here.
    tier: NonEmptyStr
    sla_policy: SlaPolicy | None = None
    status: EntitlementStatus
    start_date: date
    end_date: date | None = None
    seats: Annotated[int, Field(ge=0)] | None = None

    @model_validator(mode="after")
    def _period(self) -> Self:
        if self.end_date is not None and self.end_date < self.start_date:
            raise ValueError(f"end_date {self.end_date} is before start_date {self.start_date}")
        return self


class CaseStatus(StrEnum):
    NEW = "new"
    OPEN = "open"
    PENDING = "pending"
    ON_HOLD = "on_hold"
    SOLVED = "solved"
    CLOSED = "closed"


class CaseChannel(StrEnum):
    EMAIL = "email"
    WEB = "web"
    PHONE = "phone"
    CHAT = "chat"
    API = "api"
    OTHER = "other"


class SupportCase(Entity):
    """A support ticket. Only what other systems need travels: no conversation bodies (PII)."""

    account_id: GlobalId | None = None
    contact_id: GlobalId | None = None
    entitlement_id: GlobalId | None = None
    subject: NonEmptyStr
    status: CaseStatus
    priority: CasePriority = CasePriority.NORMAL
    channel: CaseChannel = CaseChannel.OTHER
    opened_at: Timestamp
    solved_at: Timestamp | None = None
    tags: tuple[str, ...] = ()

    @model_validator(mode="after")
    def _times(self) -> Self:
        if self.solved_at is not None and self.solved_at < self.opened_at:
            raise ValueError("solved_at is before opened_at")
        return self
