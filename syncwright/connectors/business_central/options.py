"""``connections.<name>.options`` of a Business Central connection (see this folder's README)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from syncwright.connectors import ConnectorOptions, ValidationOptions

__all__ = ["DEFAULT_LOGIN_URL", "BusinessCentralOptionsModel"]

DEFAULT_LOGIN_URL = "https://login.microsoftonline.com"


class BusinessCentralOptionsModel(ConnectorOptions):
    """Options of a ``vendor: business_central`` connection."""

    tenant: str = Field(min_length=1)
    """Microsoft Entra tenant (id or domain, e.g. contoso.onmicrosoft.com)."""
    environment: str = Field(default="production", min_length=1)
    """Business Central environment name."""
    company_id: str = Field(pattern=r"^[0-9a-fA-F]{8}-([0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}$")
    """The company (GET .../api/v2.0/companies lists them) whose books this connection writes."""
    login_url: str = DEFAULT_LOGIN_URL
    """Entra ID host that issues tokens (the sandbox's own URL when emulated)."""
    ca_file: str | None = None
    """A CA bundle to trust (the sandbox's self-signed certificate); default: system CAs."""
    items: dict[str, str] = Field(default_factory=dict)
    """Canonical price/product ids, or their native ids elsewhere -> item number."""
    default_item: str | None = None
    """Item number for lines no entry of ``items`` maps."""
    tax_areas: dict[str, str] = Field(default_factory=dict)
    """Legal entity (Account.subsidiary) or ``default`` -> tax area code for new customers;
    a customer with a tax area is tax liable."""
    payment_journal: str | None = None
    """Code of the customer payment journal payments are written to (default: the first)."""
    post_payments: bool = True
    """Post the payment journal after writing a payment (it posts every line of that journal:
    give syncwright a journal of its own); false leaves posting to finance."""
    dunning_block: Literal["Ship", "Invoice", "All"] = "Ship"
    """The customer ``blocked`` value a failed collection sets (lifted once paid)."""
    page_size: int = Field(default=1000, ge=1, le=20000)
    """Records per page when polling (``$top``)."""
    validation: ValidationOptions | None = None
    """Synchronous validation (``POST /api/v1/validate/{check}``) against this company."""
