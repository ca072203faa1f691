"""Zendesk's side of reconciliation: the support tier each organization holds (the
``options.tier_field`` organization field), keyed by its external id -- our account's global id.
Zendesk is never the system of record of an entitlement, so it re-emits nothing.

https://developer.zendesk.com/api-reference/ticketing/organizations/organizations/#list-organizations
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from syncwright.reconcile.snapshot import Dataset, SnapshotRecord, unsupported

if TYPE_CHECKING:
    from syncwright.connectors.zendesk.client import ZendeskClient
    from syncwright.connectors.zendesk.outbound import ZendeskOptions


def entitlement_records(client: ZendeskClient, options: ZendeskOptions) -> Iterator[SnapshotRecord]:
    """Organizations that hold a tier: linked to an account (external id) and with a tier
    other than the revoked one (``options.revoked_tier``) or none."""
    for org in client.iterate_organizations():
        external_id = org.get("external_id")
        fields: Any = org.get("organization_fields")
        tier = fields.get(options.tier_field) if isinstance(fields, dict) else None
        if not external_id or tier in (None, "", options.revoked_tier):
            continue
        yield SnapshotRecord(
            entity_type="entitlement",
            native_id=str(org["id"]),
            global_id=str(external_id),
            fields={"tier": tier},
        )


def snapshot(
    client: ZendeskClient, options: ZendeskOptions, dataset: Dataset
) -> Iterator[SnapshotRecord]:
    if dataset == "entitlements":
        return entitlement_records(client, options)
    raise unsupported("zendesk", dataset, ("entitlements",))
