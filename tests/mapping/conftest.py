"""The Zendesk emulator fixtures, for the test of the ledger's recorded mapping version."""

from tests.connectors.zendesk.conftest import _zendesk_server, zendesk

__all__ = ["_zendesk_server", "zendesk"]
