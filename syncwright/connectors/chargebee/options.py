"""``connections.<name>.options`` of a Chargebee connection, declared for ``config validate``.

The connector reads the same keys (``connector.py``); see this folder's README.
"""

from __future__ import annotations

from pydantic import Field

from syncwright.connectors import ConnectorOptions

__all__ = ["ChargebeeOptionsModel"]


class ChargebeeOptionsModel(ConnectorOptions):
    """Options of a ``vendor: chargebee`` connection."""

    default_subsidiary: str | None = None
    """Legal entity for customers whose ``meta_data.subsidiary`` is not set."""
    poll_lookback_seconds: int = Field(default=86_400, ge=1)
    """How far back the first poll of the ``events`` stream reads."""
    poll_page_size: int = Field(default=100, ge=1, le=100)
    """Events per poll (Chargebee's list limit is 100)."""
    item_prices: dict[str, str] | None = None
    """Canonical price/product ids, or their native ids in other systems -> Chargebee item
    price ids (outbound ``create_subscription``)."""
    verify_webhooks_by_refetch: bool = False
    """Accept a webhook only when the events API returns the same event (its id, type and
    content): Chargebee's own recommendation besides basic auth."""
