"""``connections.<name>.options`` of a NetSuite connection, declared for ``config validate``.

The connector reads the same keys at start-up (``mapping.NetSuiteOptions``); this model is what
a config is checked against before anything runs. See this folder's README.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field, PlainValidator, WithJsonSchema

from syncwright.connectors import ConnectorOptions, ValidationOptions

__all__ = ["NetSuiteOptionsModel"]


def _internal_id(value: Any) -> str | int:
    # NetSuite internal ids are numbers; YAML may give them as numbers or strings.
    if isinstance(value, bool) or not isinstance(value, str | int) or str(value).strip() == "":
        raise ValueError("must be a NetSuite internal id (a number or a string)")
    return value


InternalId = Annotated[
    str | int,
    PlainValidator(_internal_id),
    WithJsonSchema({"type": ["string", "integer"], "description": "a NetSuite internal id"}),
]
IdMap = dict[str | int, InternalId]


class NetSuiteOptionsModel(ConnectorOptions):
    """Options of a ``vendor: netsuite`` connection."""

    account: InternalId | None = None
    """Account id (the TBA realm), e.g. 1234567 or 1234567_SB1; read from an account-specific
    base_url when unset."""
    account_id: InternalId | None = None
    """Older spelling of ``account``."""
    subsidiaries: IdMap | None = None
    """Legal entity name -> subsidiary internal id."""
    default_subsidiary: InternalId | None = None
    """Subsidiary internal id for accounts without a legal entity."""
    subsidiary_id: InternalId | None = None
    """Older spelling of ``default_subsidiary``."""
    currencies: IdMap | None = None
    """ISO currency code -> currency internal id."""
    items: IdMap | None = None
    """Canonical price/product ids, or their native ids elsewhere -> item internal id."""
    default_item: InternalId | None = None
    """Item internal id for lines no entry of ``items`` maps."""
    discount_item: InternalId | None = None
    """Discount item internal id, for discount lines."""
    refund_item: InternalId | None = None
    """Item internal id for the credit memo line of a refund made without a credit note
    (a refunded charge); unset: ``default_item``."""
    tax_codes: IdMap | None = None
    """Legal entity, subsidiary internal id or ``default`` -> tax code internal id."""
    poll_streams: list[Literal["customers"]] | None = Field(default=None, min_length=1)
    """Streams to poll: ``customers`` reads changed customers (legal name, tax registration,
    credit hold, payment terms) so the ERP's facts flow back (docs/erp-source.md). Unset: none,
    NetSuite is a target only."""
    poll_page_size: int = Field(default=200, ge=1, le=1000)
    """Customers read per SuiteQL page when polling."""
    validation: ValidationOptions | None = None
    """Synchronous validation (``POST /api/v1/validate/{check}``) against this account."""
