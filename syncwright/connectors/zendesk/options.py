"""``connections.<name>.options`` of a Zendesk connection, declared for ``config validate``.

The connector reads the same keys at start-up (``outbound.ZendeskOptions``), the onboarding
workflow the tier keys; this model is what a config is checked against before anything runs.
See this folder's README.
"""

from __future__ import annotations

from syncwright.connectors import ConnectorOptions

__all__ = ["ZendeskOptionsModel"]


class ZendeskOptionsModel(ConnectorOptions):
    """Options of a ``vendor: zendesk`` connection."""

    subdomain: str | None = None
    """``<subdomain>.zendesk.com``, when base_url is not set."""
    tier_field: str = "entitlement_tier"
    """Organization field key that holds the support tier."""
    sla_field: str = "sla_policy"
    """Organization field key that holds the SLA policy name."""
    revoked_tier: str = "none"
    """Tier written when an entitlement is withdrawn."""
    default_tier: str = "standard"
    """Tier of a subscription no entry of ``tiers`` names."""
    tiers: dict[str, str] | None = None
    """Product/price ids (canonical or native) -> tier they grant."""
    tier_order: list[str] | None = None
    """Tiers from lowest to best; the best tier any line grants wins."""
    sla_policies: dict[str, str] | None = None
    """Tier -> SLA policy name."""
