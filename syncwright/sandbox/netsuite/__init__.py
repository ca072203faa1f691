"""NetSuite SuiteTalk REST web services emulator: record service, SuiteQL, TBA, governance.

``create_app(credentials=...)`` returns the ASGI app; run it with
:class:`~syncwright.sandbox.ServerThread` or ``python -m syncwright.sandbox.netsuite``. See
README.md in this folder for what is emulated and the Oracle pages it follows.
"""

from syncwright.sandbox.netsuite._app import NetSuiteSandbox, create_app, sandbox_of
from syncwright.sandbox.netsuite._auth import TbaVerifier
from syncwright.sandbox.netsuite._credentials import TbaCredentials, TbaSecrets
from syncwright.sandbox.netsuite._errors import NetSuiteApiError
from syncwright.sandbox.netsuite._governor import ConcurrencyGovernor
from syncwright.sandbox.netsuite._state import NetSuiteState

__all__ = [
    "ConcurrencyGovernor",
    "NetSuiteApiError",
    "NetSuiteSandbox",
    "NetSuiteState",
    "TbaCredentials",
    "TbaSecrets",
    "TbaVerifier",
    "create_app",
    "sandbox_of",
]
