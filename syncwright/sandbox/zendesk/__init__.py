"""Zendesk Support emulator: organizations (with custom fields), users, tickets, search and
signed webhooks, served the way Zendesk serves them. See README.md in this folder.

    from syncwright.sandbox import ServerThread
    from syncwright.sandbox.zendesk import create_app

    with ServerThread(create_app()) as server:
        ...  # point zenpy at server.url via ZENPY_FORCE_SCHEME / ZENPY_FORCE_NETLOC
"""

from syncwright.sandbox.zendesk._app import DEFAULT_API_TOKEN, create_app
from syncwright.sandbox.zendesk._context import ZendeskEmulator, emulator_of
from syncwright.sandbox.zendesk._state import ZendeskEvent, ZendeskState

__all__ = [
    "DEFAULT_API_TOKEN",
    "ZendeskEmulator",
    "ZendeskEvent",
    "ZendeskState",
    "create_app",
    "emulator_of",
]
