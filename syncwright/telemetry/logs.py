"""Log setup for ``serve``, ``worker`` and ``demo``: level and format from ``telemetry``, the
correlation id of the run a line belongs to, and no secret in any line.

:class:`RedactingFilter` sits on the handler, so it sees every record any logger propagates to
the root (ours, httpx, DBOS, uvicorn's when it does not configure its own): it masks every
configured secret value (``Secret`` anywhere in the settings, a password inside the database
URL) and the value of any ``Authorization`` header, in the message, its arguments and the
formatted traceback.
"""

from __future__ import annotations

import json
import logging
import re
import sys
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from pydantic import BaseModel

from syncwright.config import MASK, Secret, Settings
from syncwright.engine.context import current_run

# Shorter values would mask ordinary words and numbers; no real credential is that short.
MIN_SECRET_LENGTH = 4
# "Authorization: Bearer x", "'authorization': 'Basic x'", "Authorization=NLAuth x, ..."
_AUTHORIZATION = re.compile(
    r"""(?i)(\bauthorization["']?\s*[:=]\s*["']?)([^"'\r\n,}]+)""",
)
_INSTALLED = "_syncwright_handler"


def _secrets_in(value: Any) -> Iterator[str]:
    if isinstance(value, Secret):
        yield value.reveal()
    elif isinstance(value, BaseModel):
        for name in type(value).model_fields:
            yield from _secrets_in(getattr(value, name))
    elif isinstance(value, dict):
        for item in value.values():
            yield from _secrets_in(item)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from _secrets_in(item)


def secret_values(settings: Settings) -> list[str]:
    """Every secret the settings hold (credentials, tokens, passwords), longest first."""
    found = set(_secrets_in(settings))
    password = sa.engine.make_url(settings.database.url_with_password()).password
    if password:
        found.add(str(password))
    return sorted((s for s in found if len(s) >= MIN_SECRET_LENGTH), key=len, reverse=True)


class RedactingFilter(logging.Filter):
    """Masks secret values and Authorization header values in every record it passes."""

    def __init__(self, secrets: Iterable[str]) -> None:
        super().__init__()
        self._secrets = sorted(set(secrets), key=len, reverse=True)

    def redact(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, MASK)
        return _AUTHORIZATION.sub(lambda m: m.group(1) + MASK, text)

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = self.redact(record.getMessage())
        record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self.redact(record.exc_text)
        if record.stack_info:
            record.stack_info = self.redact(record.stack_info)
        return True


class ContextFilter(logging.Filter):
    """Adds ``correlation_id`` and ``workflow_id`` (of the run being executed, or ``None``)."""

    def filter(self, record: logging.LogRecord) -> bool:
        correlation_id, workflow_id = current_run.get() or (None, None)
        if getattr(record, "correlation_id", None) is None:
            record.correlation_id = correlation_id
        if getattr(record, "workflow_id", None) is None:
            record.workflow_id = workflow_id
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, correlation and workflow ids,
    and the traceback when there is one."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
            "correlation_id": getattr(record, "correlation_id", None),
            "workflow_id": getattr(record, "workflow_id", None),
        }
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            line["exception"] = record.exc_text
        return json.dumps(line, ensure_ascii=False)


class TextFormatter(logging.Formatter):
    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s [%(correlation_id)s] %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        if getattr(record, "correlation_id", None) is None:
            record.correlation_id = "-"
        return super().format(record)


def configure_logging(settings: Settings, stream: Any = None) -> logging.Handler:
    """Install syncwright's handler on the root logger (replacing one installed before) with
    ``telemetry.log_level`` and ``telemetry.log_format``; return it."""
    telemetry = settings.telemetry
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(JsonFormatter() if telemetry.log_format == "json" else TextFormatter())
    handler.addFilter(ContextFilter())
    handler.addFilter(RedactingFilter(secret_values(settings)))
    setattr(handler, _INSTALLED, True)
    root = logging.getLogger()
    for old in [h for h in root.handlers if getattr(h, _INSTALLED, False)]:
        root.removeHandler(old)
    root.addHandler(handler)
    level = logging.getLevelName(telemetry.log_level.upper())
    root.setLevel(level)
    logging.getLogger("syncwright").setLevel(level)
    return handler
