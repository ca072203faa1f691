"""Freshdesk emulator: companies (with custom fields), contacts, tickets, SLA policies, API key
auth, Freshdesk's error bodies and rate-limit headers, and webhooks from automation rules. See
README.md in this folder.

    from syncwright.sandbox import ServerThread
    from syncwright.sandbox.freshdesk import create_app

    with ServerThread(create_app()) as server:
        ...  # server.url + "/api/v2", basic auth (api key, "X")
"""

from syncwright.sandbox.freshdesk._app import (
    DEFAULT_API_KEY,
    DEFAULT_DOMAIN,
    FreshdeskEmulator,
    create_app,
    emulator_of,
)
from syncwright.sandbox.freshdesk._state import FreshdeskState, TicketChange

__all__ = [
    "DEFAULT_API_KEY",
    "DEFAULT_DOMAIN",
    "FreshdeskEmulator",
    "FreshdeskState",
    "TicketChange",
    "create_app",
    "emulator_of",
]
