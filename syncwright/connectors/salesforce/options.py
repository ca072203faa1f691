"""``connections.<name>.options`` of a Salesforce connection, declared for ``config validate``.

The connector reads the same keys at start-up (``connector.py``); this model is what a config is
checked against before anything runs. See this folder's README.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import Field, PlainValidator

from syncwright.connectors import ConnectorOptions

__all__ = ["SalesforceOptionsModel"]


def _api_version(value: Any) -> str | float:
    # YAML reads 59.0 as a number; the connector accepts the number or the string.
    if isinstance(value, bool) or not re.match(r"^\d+\.\d$", str(value)):
        raise ValueError("must be an API version like 59.0")
    return value  # type: ignore[no-any-return]


class SalesforceOptionsModel(ConnectorOptions):
    """Options of a ``vendor: salesforce`` connection."""

    client_name: str | None = None
    """Client name sent in call options (how our own writes are recognised as echoes)."""
    ca_file: str | None = None
    """A CA bundle to trust (the emulator's self-signed certificate)."""
    api_version: Annotated[str | float, PlainValidator(_api_version)] | None = None
    """REST API version, like 59.0."""
    default_currency: str | None = None
    """Currency of records without ``CurrencyIsoCode``."""
    default_subsidiary: str | None = None
    """Legal entity of accounts whose legal entity field is empty."""
    legal_entity_field: str | None = None
    """Account field holding the legal entity (an API name such as Legal_Entity__c)."""
    won_stages: list[str] | None = Field(default=None, min_length=1)
    """Opportunity stages that count as won."""
    renewal_types: list[str] | None = Field(default=None, min_length=1)
    """Opportunity ``Type`` values of a renewal: such a deal, won, renews the customer's
    subscription (``deal.renewal_won.v1``) instead of onboarding a new one. Default
    ``[Renewal]``."""
    poll_streams: list[Literal["cdc", "soql"]] | None = Field(default=None, min_length=1)
    """Which declared streams this connection polls."""
    poll_page_size: int = Field(default=500, ge=1, le=10_000)
    """Records per poll."""
    cdc_start_replay_id: int = Field(default=-2, ge=-2)
    """Where the first CDC poll starts: -2 every retained event, -1 only new ones."""
    poll_lookback_seconds: int = Field(default=86_400, ge=1)
    """How far back the first SOQL poll reads."""
    soql_overlap_seconds: int = Field(default=60, ge=0)
    """How much of the last window each SOQL poll re-reads. SystemModstamp is taken when a
    transaction starts, so a long transaction can commit a stamp older than rows another poll
    already saw; re-reading a short window catches it (the inbox drops what it holds)."""
    billing_fields: dict[str, str] | None = None
    """update_account_billing key -> Account field API name, over the outbound mapping's."""
    subscription_status_values: dict[str, str] | None = None
    """Canonical subscription status -> picklist value, over the outbound mapping's."""
    standing_values: dict[str, str] | None = None
    """Canonical account standing -> Account_Standing__c picklist value, over the mapping's."""
    describe_cache_seconds: int = Field(default=300, ge=0)
    """How long a describe of an object is reused."""
    pubsub_endpoint: str | None = Field(default=None, pattern=r"^[A-Za-z0-9.-]+:\d{1,5}$")
    """host:port of the Pub/Sub API (api.pubsub.salesforce.com:7443): the cdc stream subscribes
    there over gRPC. Unset: the cdc stream reads the emulator's replay endpoint."""
    cdc_topic: str = Field(default="/data/ChangeEvents", pattern=r"^/data/[A-Za-z0-9_]+$")
    """The change event channel the cdc stream subscribes to over the Pub/Sub API."""
    pubsub_managed_subscription: str | None = Field(
        default=None, pattern=r"^[A-Za-z][A-Za-z0-9_]{0,79}$"
    )
    """Developer name of a managed event subscription (ManagedEventSubscription, whose topic
    is the change event channel): the cdc stream uses ManagedSubscribe and commits each stored
    cursor, so the server keeps the position (managed replay). Unset: client-side replay."""
    pubsub_wait_seconds: float = Field(default=10.0, gt=0, le=300)
    """How long one cdc poll over the Pub/Sub API waits for events before it returns."""
