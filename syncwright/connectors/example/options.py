"""``connections.<name>.options`` of an example connection: the connector's declared options.

``config validate`` checks a config against this model (unknown keys and wrong types are
reported by path); the connector reads its options through the same model.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from syncwright.connectors import ConnectorOptions

__all__ = ["ExampleOptions"]


class ExampleOptions(ConnectorOptions):
    """Options of a ``vendor: example`` connection."""

    default_subsidiary: str | None = None
    """Subsidiary written for accounts that name none (the ERP requires one)."""
    poll_streams: list[Literal["events"]] = Field(default_factory=list)
    """Declared streams this connection polls; none by default (the shop pushes webhooks)."""
    page_size: int = Field(default=50, ge=1, le=100)
    """Events read per poll of the ``events`` stream (the ERP's list limit is 100)."""
