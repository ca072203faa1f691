"""Vendor API emulators: real HTTP servers on 127.0.0.1 that behave like the vendors.

Each vendor has a sub-package with ``create_app(...)`` returning an ASGI app and its own in-memory
state; :class:`~syncwright.sandbox._server.ServerThread` runs any of them on a loopback port.
"""

from syncwright.sandbox._faults import FaultInjector, FaultPlan
from syncwright.sandbox._server import ServerThread

__all__ = ["FaultInjector", "FaultPlan", "ServerThread"]
