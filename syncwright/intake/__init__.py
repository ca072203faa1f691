"""Webhook intake and the durable inbox: verify, write once, acknowledge fast."""

from syncwright.intake.inbox import AcceptResult, Inbox, InboxRow
from syncwright.intake.router import build_hooks_router

__all__ = ["AcceptResult", "Inbox", "InboxRow", "build_hooks_router"]
