"""Shared building blocks of the canonical model: base classes and small constrained types.

Every canonical model is frozen and forbids unknown fields. Frozen, because a canonical record
travels through durable workflow state, the ledger and change-event deltas, and a record that
can be mutated in place after it was recorded makes those disagree. Forbidding extra fields,
because a typo in a mapping (``bill_to`` vs ``billto``) must fail loudly at the mapping, not
vanish silently three systems later.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import AwareDatetime, BaseModel, ConfigDict, StringConstraints

__all__ = [
    "CanonicalModel",
    "CountryCode",
    "EmailAddress",
    "Entity",
    "GlobalId",
    "NonEmptyStr",
    "Timestamp",
]

NonEmptyStr = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]
"""Text that must carry something: surrounding whitespace is stripped, then it must be non-empty."""

GlobalId = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=128)]
"""syncwright's own id of a record. Native (vendor) ids never appear on canonical entities: they
live in the cross-reference store, so the model stays vendor-neutral."""

CountryCode = Annotated[str, StringConstraints(pattern=r"^[A-Z]{2}$")]
"""ISO 3166-1 alpha-2 country code, upper-case (``US``, ``DE``)."""

Timestamp = AwareDatetime
"""A point in time with its UTC offset. Naive datetimes are refused: systems in different time
zones exchange these, and a naive value's meaning depends on whoever reads it."""

# Deliberately loose: the only thing we can check without a mail server is "something@something".
# Real deliverability is the CRM's concern; the model only refuses obvious garbage.
EmailAddress = Annotated[
    str, StringConstraints(strip_whitespace=True, max_length=320, pattern=r"^[^@\s]+@[^@\s]+$")
]


class CanonicalModel(BaseModel):
    """Base of every canonical value and entity: immutable and strict about unknown fields."""

    model_config = ConfigDict(frozen=True, extra="forbid")


class Entity(CanonicalModel):
    """A canonical record with an identity of its own."""

    global_id: GlobalId
