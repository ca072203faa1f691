"""What a connector reports about its own state for reconciliation: one record per business
object, its comparable fields, and how to re-emit it so the normal pipeline can heal a drift.

A connector that can take part in a rule implements :class:`SnapshotSource` (``snapshot`` and
``reemit``); the rule compares what two connections say through it, never vendor payloads.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol, runtime_checkable

from syncwright.connectors import PolledEvent
from syncwright.errors import ConfigError

#: What a rule can compare. ``invoices``: amounts, currency and settlement of issued invoices;
#: ``subscriptions``: which contracts are live (billing subscription vs ERP sales order);
#: ``entitlements``: the support tier an account has against the one its plan grants;
#: ``crm_standing``: the latest invoice (number, status) the CRM account shows.
Dataset = Literal["invoices", "subscriptions", "entitlements", "crm_standing"]
DATASETS: tuple[Dataset, ...] = ("invoices", "subscriptions", "entitlements", "crm_standing")

#: The comparable fields of each dataset (a rule's ``fields`` picks among them).
CHECK_FIELDS: dict[str, tuple[str, ...]] = {
    "invoices": ("total", "currency", "settled"),
    "subscriptions": ("active",),
    "entitlements": ("tier",),
    "crm_standing": ("last_invoice_number", "last_invoice_status"),
}


@dataclass(frozen=True)
class SnapshotRecord:
    """One business object as one system holds it.

    ``global_id`` is set when the system stores our global id itself (the ERP's external id);
    otherwise the reconciler resolves ``native_id`` through the cross-reference. ``fields`` are
    the comparable values (money in integer minor units); ``period`` (``YYYY-MM``) and
    ``currency`` feed the per-currency, per-period totals.
    """

    entity_type: str
    native_id: str
    fields: Mapping[str, Any]
    global_id: str | None = None
    currency: str | None = None
    period: str | None = None
    amount_minor: int | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)


@runtime_checkable
class SnapshotSource(Protocol):
    """A connector that can list its records for a dataset and re-emit one of them."""

    def snapshot(self, dataset: Dataset) -> Iterator[SnapshotRecord]:
        """Every record of ``dataset`` this connection holds, read page by page within the
        connection's limits. Raises ``ConfigError`` for a dataset it cannot read."""
        ...

    def reemit(self, dataset: Dataset, native_id: str, reason: str) -> list[PolledEvent]:
        """The vendor event that, processed again, brings the other systems in line with this
        record as it is now (read fresh); empty when there is nothing to re-send."""
        ...


def unsupported(vendor: str, dataset: str, supported: tuple[str, ...]) -> ConfigError:
    """What a connector's ``snapshot`` raises for a dataset it cannot read."""
    return ConfigError(
        f"{vendor} cannot be reconciled on {dataset!r}",
        code=f"{vendor}.unknown_dataset",
        problems=[f"{vendor} datasets: {', '.join(supported)}"],
    )
