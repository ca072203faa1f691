"""The operations console: server-rendered pages at ``/`` of ``syncwright serve``.

See ``docs/console.md``. Jinja2 templates and htmx (vendored in ``static/``, no front-end
build); sign-in with an API token from ``auth.tokens``; sessions and CSRF in ``session.py``.
"""

from __future__ import annotations

from fastapi import FastAPI

from syncwright.api.auth import TokenRegistry
from syncwright.console.app import ConsoleConfig, mount_console
from syncwright.console.session import SessionStore
from syncwright.exceptions.service import ResumeSender
from syncwright.runtime import Runtime


def install_console(app: FastAPI, runtime: Runtime, resume: ResumeSender) -> SessionStore:
    """Serve the console from ``app``; returns its session store (the demo and tests read it)."""
    sessions = SessionStore()
    mount_console(
        app, ConsoleConfig(runtime, resume, TokenRegistry.from_settings(runtime.settings), sessions)
    )
    return sessions


__all__ = ["ConsoleConfig", "SessionStore", "install_console", "mount_console"]
