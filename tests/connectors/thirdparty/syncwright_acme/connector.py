"""The Acme connector: declared, typed options, one stream, no webhooks, nothing mapped in."""

from __future__ import annotations

from typing import Any, Literal

from syncwright.connectors import Connector, ConnectorOptions, Stream


class AcmeOptions(ConnectorOptions):
    region: Literal["eu", "us"] = "eu"
    """Which Acme data centre the account lives in."""


class AcmeConnector(Connector):
    vendor = "acme"
    streams = (Stream("contacts", "/v1/contacts", primary_key="id", cursor_field="updated_at"),)
    poll_streams = ()
    options_model = AcmeOptions

    def __init__(self, name: str, settings: Any) -> None:
        super().__init__(name, settings)
        self.options: AcmeOptions = self.parse_options(name, settings.options)
