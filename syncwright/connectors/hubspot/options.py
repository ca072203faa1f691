"""``connections.<name>.options`` of a HubSpot connection, declared for ``config validate``.

The connector reads the same keys at start-up (``connector.py``); see this folder's README.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from syncwright.connectors import ConnectorOptions

__all__ = ["HubSpotOptionsModel"]


class HubSpotOptionsModel(ConnectorOptions):
    """Options of a ``vendor: hubspot`` connection."""

    webhook_url: str | None = None
    """The target URL set in the HubSpot app (what HubSpot signs); default: rebuilt from Host."""
    default_currency: str | None = None
    """Currency of deals without ``deal_currency_code`` (the portal's company currency)."""
    default_subsidiary: str | None = None
    """Legal entity of companies whose legal entity property is empty."""
    legal_entity_property: str | None = None
    """Company property holding the legal entity (default ``legal_entity``)."""
    won_stages: list[str] | None = Field(default=None, min_length=1)
    """Deal stage ids that count as won (default ``closedwon``)."""
    poll_streams: list[Literal["deals"]] | None = Field(default=None, min_length=1)
    """Which declared streams this connection polls."""
    poll_page_size: int = Field(default=100, ge=1, le=200)
    """Deals per poll (the search API's page is at most 200)."""
    poll_lookback_seconds: int = Field(default=86_400, ge=1)
    """How far back the first poll reads."""
    billing_properties: dict[str, str] | None = None
    """Billing fact -> company property name, overriding the defaults."""
    subscription_status_values: dict[str, str] | None = None
    """Canonical subscription status -> option value of the status property."""
