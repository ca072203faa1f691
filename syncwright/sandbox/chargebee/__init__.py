"""A Chargebee (API v2, Product Catalog 2.0) emulator: a real HTTP server that answers like
``https://<site>.chargebee.com/api/v2`` does.

Point Chargebee's own SDK at it by its API endpoint only::

    from syncwright.sandbox import ServerThread
    from syncwright.sandbox.chargebee import ChargebeeState, create_app

    server = ServerThread(create_app(ChargebeeState(), api_key="test_key")).start()
    cb = chargebee.Chargebee(api_key="test_key", site="sandbox", protocol="http")
    cb.env.api_endpoint = f"{server.url}/api/v2"

See ``README.md`` in this folder for what is emulated and the ``/_sandbox`` switches.
"""

from syncwright.sandbox.chargebee._app import create_app
from syncwright.sandbox.chargebee._state import ChargebeeState
from syncwright.sandbox.chargebee._webhooks import DeliveryRecord, WebhookEndpoint

__all__ = ["ChargebeeState", "DeliveryRecord", "WebhookEndpoint", "create_app"]
