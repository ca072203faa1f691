"""``connections.<name>.options`` of a Freshdesk connection (see this folder's README).

The connector reads them at start-up, the onboarding workflow the tier keys (``tiers``,
``tier_order``, ``default_tier``, ``sla_policies``); ``config validate`` checks a config
against this model before anything runs.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, model_validator

from syncwright.connectors import ConnectorOptions

__all__ = ["FreshdeskOptions"]

# Freshdesk's API names of custom fields: lower-case letters, digits and '_'.
FieldName = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$", max_length=64)]


class FreshdeskOptions(ConnectorOptions):
    """Options of a ``vendor: freshdesk`` connection."""

    domain: str | None = Field(default=None, pattern=r"^[A-Za-z0-9-]+$")
    """``<domain>.freshdesk.com``, when base_url is not set."""
    external_id_field: FieldName = "syncwright_id"
    """Company field (text) holding the account's global id: how a company is found again."""
    tier_field: FieldName = "entitlement_tier"
    """Company field holding the support tier (text, or dropdown with every tier as a choice)."""
    revoked_tier: str = Field(default="none", min_length=1)
    """Tier written when an entitlement is withdrawn."""
    default_tier: str = "standard"
    """Tier of a subscription no entry of ``tiers`` names."""
    tiers: dict[str, str] | None = None
    """Product/price ids (canonical or native) -> tier they grant."""
    tier_order: list[str] | None = None
    """Tiers from lowest to best; the best tier any line grants wins."""
    sla_policies: dict[str, str] | None = None
    """Tier -> name of the Freshdesk SLA policy the company is put in."""
    webhook_secret_header: str = Field(
        default="X-Syncwright-Webhook-Secret", pattern=r"^[A-Za-z0-9-]+$"
    )
    """Custom header the automation rule sends with the shared secret (``webhook.secrets``);
    basic auth with a secret as password is accepted as well."""
    page_size: int = Field(default=100, ge=1, le=100)
    """Tickets per page when polling."""

    @model_validator(mode="after")
    def _distinct_fields(self) -> FreshdeskOptions:
        if self.external_id_field == self.tier_field:
            raise ValueError("external_id_field and tier_field must name different fields")
        return self
