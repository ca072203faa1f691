"""HubSpot CRM emulator: companies, contacts, deals (pipeline stages), products, line items,
v4 associations, properties, search and batch endpoints, bearer auth, HubSpot's error body and
rate limits, and webhooks batched and signed as HubSpot sends them. See README.md.

    from syncwright.sandbox import ServerThread
    from syncwright.sandbox.hubspot import create_app

    with ServerThread(create_app()) as server:
        ...  # HubSpot(access_token=DEFAULT_ACCESS_TOKEN, host=server.url)
"""

from syncwright.sandbox.hubspot._app import (
    DEFAULT_ACCESS_TOKEN,
    DEFAULT_APP_ID,
    DEFAULT_CLIENT_SECRET,
    DEFAULT_DEVELOPER_API_KEY,
    DEFAULT_OAUTH_CLIENT_ID,
    DEFAULT_REFRESH_TOKEN,
    create_app,
)
from syncwright.sandbox.hubspot._context import HubSpotEmulator, emulator_of
from syncwright.sandbox.hubspot._schema import SYNCWRIGHT_PROPERTIES
from syncwright.sandbox.hubspot._state import HubSpotState
from syncwright.sandbox.hubspot._webhooks import sign_v1, sign_v2, sign_v3

__all__ = [
    "DEFAULT_ACCESS_TOKEN",
    "DEFAULT_APP_ID",
    "DEFAULT_CLIENT_SECRET",
    "DEFAULT_DEVELOPER_API_KEY",
    "DEFAULT_OAUTH_CLIENT_ID",
    "DEFAULT_REFRESH_TOKEN",
    "SYNCWRIGHT_PROPERTIES",
    "HubSpotEmulator",
    "HubSpotState",
    "create_app",
    "emulator_of",
    "sign_v1",
    "sign_v2",
    "sign_v3",
]
