"""Typed ``connections.<name>.options``: every connector declares a pydantic model of its options.

``syncwright config validate`` checks a connection's options against its connector's model and
names each problem by path (``connections.shop.options.page_size: must be at least 1``), so a
typo'd or mistyped option is caught before anything runs. A connector that takes no options of
its own uses :class:`ConnectorOptions` as it is.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from syncwright.errors import ConfigError

__all__ = ["ConnectorOptions", "ValidationOptions", "options_problems", "parse_options"]


class _Options(BaseModel):
    model_config = ConfigDict(
        extra="forbid",  # a typo is an error, not a silently ignored option
        strict=True,  # YAML has types: `page_size: "10"` is a mistake worth reporting
        frozen=True,
        hide_input_in_errors=True,
        use_attribute_docstrings=True,
    )


class ValidationOptions(_Options):
    """``options.validation``: how synchronous validation against this connection behaves."""

    deadline_seconds: float = Field(default=2.0, gt=0, le=60)
    """How long a check waits for the vendor before answering with ``fallback``."""
    cache_ttl_seconds: float = Field(default=30.0, ge=0)
    """How long an answer is reused."""
    fallback: Literal["unknown", "allow", "deny"] = "unknown"
    """What a check answers when the vendor did not answer in time."""


class ConnectorOptions(_Options):
    """Options every connection accepts; a connector's own model subclasses this one."""

    role: str | None = Field(default=None, min_length=1)
    """What this connection is to the workflows (``erp``, ``crm``, ``support``, ...): a workflow
    that needs "the ERP" uses the connection whose role is ``erp``."""
    poll_interval_seconds: float = Field(default=60.0, gt=0)
    """Seconds between two polls of each of the connector's poll streams."""


def options_problems(
    model: type[BaseModel], raw: Any
) -> list[tuple[tuple[str | int, ...], str, str]]:
    """``raw`` checked against ``model``: ``(location, pydantic error type, message)`` per
    problem, locations relative to ``options``. Messages never quote the value given."""
    try:
        model.model_validate(raw if raw is not None else {})
    except ValidationError as exc:
        return [
            (tuple(error["loc"]), error["type"], _message(model, error["type"], error))
            for error in exc.errors(include_url=False)
        ]
    return []


def _message(model: type[BaseModel], kind: str, error: Any) -> str:
    if kind == "extra_forbidden":
        return "unknown option; the options here are: " + ", ".join(model.model_fields)
    text = str(error["msg"]).removeprefix("Value error, ")
    return text[0].lower() + text[1:] if text else kind


def parse_options(model: type[BaseModel], connection: str, raw: Any) -> Any:
    """``raw`` as a ``model``; a :class:`ConfigError` naming every problem by path otherwise."""
    problems = options_problems(model, raw)
    if problems:
        lines = [
            f"connections.{connection}.options"
            + "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in loc)
            + f": {message}"
            for loc, _, message in problems
        ]
        raise ConfigError(
            f"connection {connection!r} has invalid options", code="config.options", problems=lines
        )
    return model.model_validate(raw if raw is not None else {})
