"""Dynamics 365 Business Central online emulator: API v2.0 (OData), Entra ID tokens, webhooks.

``create_app(client_id=..., client_secret=...)`` returns the ASGI app; run it with
:class:`~syncwright.sandbox.ServerThread` (with TLS: ``msal`` only accepts an https authority).
See README.md in this folder for what is emulated and the Microsoft pages it follows.
"""

from syncwright.sandbox.business_central._app import (
    BusinessCentralSandbox,
    create_app,
    sandbox_of,
)
from syncwright.sandbox.business_central._auth import BC_SCOPE
from syncwright.sandbox.business_central._errors import BcApiError
from syncwright.sandbox.business_central._seed import COMPANY_ID, COMPANY_NAME

__all__ = [
    "BC_SCOPE",
    "COMPANY_ID",
    "COMPANY_NAME",
    "BcApiError",
    "BusinessCentralSandbox",
    "create_app",
    "sandbox_of",
]
