"""What each check does to the records both systems report before they are compared: account
checks keep only accounts the target system knows, the entitlement check derives the tier the
plan grants, and a rule's ``fields`` narrows what is compared."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import replace
from typing import Any

from syncwright.reconcile.snapshot import Dataset, SnapshotRecord
from syncwright.xref import CrossReference

#: Checks keyed by account: one record per customer on each side.
ACCOUNT_CHECKS: frozenset[Dataset] = frozenset({"entitlements", "crm_standing"})


def known_to(
    records: Iterable[SnapshotRecord], xref: CrossReference, target: str
) -> Iterator[SnapshotRecord]:
    """Source records of accounts ``target`` holds (the cross-reference links them): a
    billing-only customer has no CRM account and no support organization to compare with."""
    for record in records:
        if record.global_id and xref.native_id_for("account", record.global_id, target):
            yield record


def with_tiers(
    records: Iterable[SnapshotRecord], options: Mapping[str, Any], xref: CrossReference
) -> Iterator[SnapshotRecord]:
    """One record per account with the tier its subscriptions in service grant, by the rule
    onboarding applies (``tier_for`` over the support connection's options); heal re-sends
    a subscription that grants that tier."""
    from syncwright.workflows.onboarding_plan import tier_for  # workflows import the engine

    by_account: dict[str, list[SnapshotRecord]] = {}
    for record in records:
        by_account.setdefault(record.global_id or record.native_id, []).append(record)
    for subs in by_account.values():
        best = tier_for(options, xref, [line for sub in subs for line in sub.extra["lines"]])
        # Heal re-sends a subscription that grants the best tier by itself.
        granting = next(
            (sub for sub in subs if tier_for(options, xref, sub.extra["lines"]) == best), subs[0]
        )
        yield replace(granting, fields={"tier": best})


def only_fields(
    records: Iterable[SnapshotRecord], fields: list[str] | None
) -> Iterator[SnapshotRecord]:
    for record in records:
        if fields is None:
            yield record
        else:
            kept = {name: value for name, value in record.fields.items() if name in fields}
            yield replace(record, fields=kept)
