"""The records of one emulated company and the value helpers the state and its rules share."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

__all__ = ["EMPTY_GUID", "Change", "Company", "Record", "money", "number"]

Record = dict[str, Any]
CENT = Decimal("0.01")
EMPTY_GUID = "00000000-0000-0000-0000-000000000000"


@dataclass(frozen=True)
class Change:
    """A change webhook subscribers hear about: ``created``, ``updated`` or ``deleted``."""

    company_id: str
    entity_set: str
    record_id: str
    change_type: str
    at: str


def money(value: Any) -> Decimal:
    return Decimal(str(value or 0)).quantize(CENT, rounding=ROUND_HALF_UP)


def number(value: Decimal) -> float | int:
    return int(value) if value == value.to_integral() else float(value)


@dataclass
class Company:
    record: Record
    tables: dict[str, dict[str, Record]] = field(default_factory=dict)
    lines: dict[str, dict[str, Record]] = field(default_factory=dict)
    tax_rates: dict[str, Decimal] = field(default_factory=dict)  # tax area id -> percent
    local_currency: str = "GBP"
    counters: dict[str, int] = field(default_factory=dict)

    def table(self, name: str) -> dict[str, Record]:
        return self.tables.setdefault(name, {})
