"""``connections.<name>.options`` of a Stripe connection, declared for ``config validate``.

The connector reads the same keys (``connector.py``); this model is what a config is checked
against before anything runs. See this folder's README for what each option does.
"""

from __future__ import annotations

from pydantic import Field

from syncwright.connectors import ConnectorOptions

__all__ = ["StripeOptionsModel"]


class StripeOptionsModel(ConnectorOptions):
    """Options of a ``vendor: stripe`` connection."""

    default_subsidiary: str | None = None
    """Legal entity for customers whose ``metadata.subsidiary`` is not set."""
    poll_lookback_seconds: int = Field(default=86_400, ge=1)
    """How far back the first poll of the ``events`` stream reads (Stripe keeps 30 days)."""
    poll_page_size: int = Field(default=100, ge=1)
    """Events per poll (at most Stripe's list limit, 100)."""
    prices: dict[str, str] | None = None
    """Canonical price/product ids, or their native ids in other systems -> Stripe price ids."""
