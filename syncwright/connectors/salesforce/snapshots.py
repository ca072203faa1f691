"""Salesforce's side of reconciliation: the billing standing each Account shows -- the latest
invoice's number and status that ``update_account_billing`` writes (``options.billing_fields``
names the fields) -- read with one paged SOQL query. Salesforce is never the system of record
of that standing, so it re-emits nothing.

https://developer.salesforce.com/docs/atlas.en-us.api_rest.meta/api_rest/dome_query.htm
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any

from syncwright.errors import ConfigError
from syncwright.reconcile.snapshot import CHECK_FIELDS, Dataset, SnapshotRecord, unsupported

if TYPE_CHECKING:
    from syncwright.connectors.salesforce.client import SalesforceClient

# Read back in canonical terms: the status is written as a person reads it ("Past Due").
_CANONICAL: Mapping[str, Any] = {
    "last_invoice_number": lambda v: None if v in (None, "") else str(v),
    "last_invoice_status": lambda v: None if not v else str(v).strip().lower().replace(" ", "_"),
}


def standing_records(
    client: SalesforceClient, billing_fields: Mapping[str, str], connection: str
) -> Iterator[SnapshotRecord]:
    """Accounts showing any standing, with the canonical values of each standing key."""
    keys = CHECK_FIELDS["crm_standing"]
    names = {key: billing_fields[key] for key in keys}
    known = client.field_names("Account")
    missing = [name for name in names.values() if name not in known]
    if missing:
        raise ConfigError(
            f"Salesforce Account has no field {', '.join(missing)}: the CRM standing cannot "
            "be reconciled",
            code="salesforce.field_missing",
            problems=[
                f"connections.{connection}: create {name} on Account (or name another field "
                "in options.billing_fields)"
                for name in missing
            ],
        )
    # The names are field API names the connector validated (options.billing_fields).
    soql = f"SELECT Id, {', '.join(names.values())} FROM Account"  # noqa: S608
    for row in client.query(soql, batch_size=2000):
        fields = {key: _CANONICAL[key](row.get(name)) for key, name in names.items()}
        if all(value is None for value in fields.values()):
            continue
        yield SnapshotRecord(entity_type="account", native_id=str(row["Id"]), fields=fields)


def snapshot(
    client: SalesforceClient, billing_fields: Mapping[str, str], connection: str, dataset: Dataset
) -> Iterator[SnapshotRecord]:
    if dataset == "crm_standing":
        return standing_records(client, billing_fields, connection)
    raise unsupported("salesforce", dataset, ("crm_standing",))
