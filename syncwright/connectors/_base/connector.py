"""The connector protocol (singer-sdk style: class attributes declare what a connector is)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, ClassVar, Protocol

from syncwright.connectors._base.limits import (
    ConcurrencyLimiter,
    RateLimiter,
    current_limiter_factory,
)
from syncwright.connectors._base.options import ConnectorOptions, parse_options
from syncwright.connectors._base.streams import Stream
from syncwright.errors import ConfigError, SyncwrightError

if TYPE_CHECKING:
    from syncwright.mapping import CompiledMapping, Direction


class WebhookVerifier(Protocol):
    """Checks a vendor's webhook signature scheme; raises ``AuthError`` when it does not verify."""

    def verify(self, body: bytes, headers: Mapping[str, str]) -> None: ...


@dataclass(frozen=True)
class WebhookIdentity:
    """What dedupes a delivery: the vendor's own event id, and its type for routing."""

    vendor_event_id: str
    event_type: str


@dataclass(frozen=True)
class Delivery:
    """One accepted inbox row, handed to the connector that normalizes it."""

    inbox_id: int
    connection: str
    vendor_event_id: str
    event_type: str
    body: str
    correlation_id: str
    received_at: datetime

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass(frozen=True)
class Action:
    """A named capability of a connector, in the engine's step vocabulary.

    ``run(ctx, connection, *args)`` performs it; ``probe`` reads the target after an uncertain
    write; ``compensate(ctx, result, connection, *args)`` undoes it in a saga. Workflows look
    actions up by name (``upsert_account``, ``upsert_sales_order``, ...), so they never import
    a vendor's code.
    """

    run: Callable[..., Any]
    probe: Callable[..., Any] | None = None
    compensate: Callable[..., Any] | None = None


@dataclass(frozen=True)
class PolledEvent:
    """One vendor event read by polling; it lands in the inbox exactly like a webhook."""

    vendor_event_id: str
    event_type: str
    body: str


@dataclass(frozen=True)
class PollBatch:
    """What one poll returned, and the cursor to resume from (None: keep the old one)."""

    events: list[PolledEvent]
    cursor: str | None
    has_more: bool = False


class Connector:
    """Base of every connector. Subclasses set the class attributes and override what they use.

    What a connector is, declared (the contract suite in ``tests/contract`` checks each
    declaration against the connector's behaviour):

    - ``vendor``: the name connections use in ``syncwright.yaml`` (and the entry point's name).
    - ``event_id_field`` / ``event_type_field``: where a webhook payload keeps its event id/type.
    - ``takes_webhooks``: it verifies the vendor's signed webhooks (given ``webhook.secrets``);
      False means ``POST /hooks/{connection}`` is refused whatever is configured.
    - ``maps_inbound``: :meth:`normalize` turns vendor events into canonical change events;
      False means every delivery is kept in the inbox and acknowledged, mapped to nothing.
    - ``streams``: what it can poll (:class:`Stream`); ``poll_streams``: the names polled by
      default (all declared streams unless set).
    - ``actions``: outbound capabilities by canonical name (:class:`Action`).
    - ``options_model``: the pydantic model of ``connections.<name>.options``.
    - ``documented_errors``: the vendor's documented error codes -> the error class each is
      raised as (``TransientError``, ``BusinessRuleError``, ``AuthError``, ...).
    """

    vendor: ClassVar[str]
    event_id_field: ClassVar[str] = "id"
    event_type_field: ClassVar[str] = "type"
    takes_webhooks: ClassVar[bool] = False
    maps_inbound: ClassVar[bool] = False
    streams: ClassVar[tuple[Stream, ...]] = ()
    # Streams polled by default (e.g. Stripe's ``events``); empty means no polling.
    poll_streams: ClassVar[tuple[str, ...]] = ()
    # Outbound capabilities by canonical name; see :class:`Action`.
    actions: ClassVar[Mapping[str, Action]] = {}
    options_model: ClassVar[type[ConnectorOptions]] = ConnectorOptions
    documented_errors: ClassVar[Mapping[str, type[SyncwrightError]]] = {}

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "streams" in vars(cls) and "poll_streams" not in vars(cls):
            cls.poll_streams = tuple(stream.name for stream in cls.streams)
        declared = {stream.name for stream in cls.streams}
        undeclared = [name for name in cls.poll_streams if name not in declared]
        if undeclared:
            raise TypeError(
                f"{cls.__name__}.poll_streams names undeclared streams {undeclared}; "
                "declare each in streams = (Stream(...), ...)"
            )
        if not (
            isinstance(cls.options_model, type) and issubclass(cls.options_model, ConnectorOptions)
        ):
            raise TypeError(f"{cls.__name__}.options_model must subclass ConnectorOptions")

    @classmethod
    def parse_options(cls, connection: str, raw: Mapping[str, Any]) -> Any:
        """``connections.<connection>.options`` as this connector's ``options_model``; a
        :class:`ConfigError` naming every problem by path when they do not fit it."""
        return parse_options(cls.options_model, connection, raw)

    @classmethod
    def stream(cls, name: str) -> Stream:
        """The declared stream ``name``; :class:`ConfigError` naming the declared ones if none."""
        for stream in cls.streams:
            if stream.name == name:
                return stream
        declared = ", ".join(s.name for s in cls.streams) or "none"
        raise ConfigError(
            f"vendor {cls.vendor!r} has no stream {name!r}",
            code="config.unknown_stream",
            problems=[f"{cls.vendor} streams: {declared}"],
        )

    def __init__(self, name: str, settings: Any) -> None:
        self.name = name
        self.settings = settings
        # The runtime's shared stores (cross-reference, ledger), bound once the process is wired.
        self.services: Any = None
        # Per process, or held in the database (``limits.scope``): the runtime decides.
        self._limiter_factory = current_limiter_factory()

    def limiters(
        self,
        *,
        default_concurrency: int | None = None,
        default_requests_per_second: float | None = None,
    ) -> tuple[ConcurrencyLimiter, RateLimiter]:
        """The concurrency and rate limiters for requests to this connection: its
        ``limits.concurrency``/``requests_per_second``, else the connector's defaults, held per
        process or shared by every process of the deployment as ``limits.scope`` says. Build
        them once per connection (every limiter built here counts against the same budget)."""
        limits = self.settings.limits
        return self._limiter_factory(
            self.name,
            limits,
            limits.concurrency or default_concurrency,
            limits.requests_per_second or default_requests_per_second,
        )

    def bind(self, services: Any) -> None:
        self.services = services

    def action(self, name: str) -> Action:
        found = self.actions.get(name)
        if found is None:
            raise ConfigError(
                f"connection {self.name!r} ({self.vendor}) cannot {name}",
                code="config.unsupported_action",
                problems=[
                    f"connections.{self.name}: vendor {self.vendor!r} has no {name!r} action"
                ],
            )
        return found

    def can(self, name: str) -> bool:
        return name in self.actions

    def webhook_verifier(self) -> WebhookVerifier | None:
        """The verifier for ``POST /hooks/{connection}``; None means webhooks are refused."""
        return None

    def webhook_handshake(self, query: Mapping[str, str]) -> str | None:
        """A vendor's subscription handshake on ``POST /hooks/{connection}`` (Business Central
        and Microsoft Graph send ``?validationToken=``): the plain-text answer it expects, or
        None when the request is an ordinary delivery. Only asked when webhooks are enabled."""
        return None

    def identify(self, payload: Any, body: bytes) -> WebhookIdentity:
        """Find the vendor event id and type; a payload without an id is keyed by its digest,
        so that even an odd delivery is kept (and deduped) rather than refused."""
        event_id = payload.get(self.event_id_field) if isinstance(payload, dict) else None
        event_type = payload.get(self.event_type_field) if isinstance(payload, dict) else None
        if not isinstance(event_id, str | int) or event_id == "":
            event_id = "sha256:" + hashlib.sha256(body).hexdigest()
        return WebhookIdentity(str(event_id), str(event_type or "unknown"))

    def normalize(self, delivery: Delivery) -> list[Any]:
        """Turn a delivery into canonical change events (``syncwright.model`` envelopes)."""
        raise NotImplementedError(f"connector {self.vendor!r} does not normalize inbound events")

    def poll(self, stream: str, cursor: str | None) -> PollBatch:
        """Read events after ``cursor`` from ``stream`` (oldest first). A stream that is not
        declared is a :class:`ConfigError` naming the declared ones."""
        self.stream(stream)
        raise NotImplementedError(f"connector {self.vendor!r} cannot poll {stream!r}")

    def mapping(self, direction: Direction) -> CompiledMapping:
        """The mapping this connection uses for ``direction``: the user's file when
        ``mappings:`` in the config names one for it, else the one the connector ships."""
        from syncwright.mapping import MappingSet, mapping_override, shipped_mapping

        replayed = mapping_override(self.vendor, direction)  # replay --mapping NAME@VERSION
        if replayed is not None:
            return replayed
        chosen = getattr(self.services, "mappings", None)
        if isinstance(chosen, MappingSet):
            found = chosen.get(self.name, self.vendor, direction)
        else:
            found = shipped_mapping(self.vendor, direction)
        if found is None:
            raise ConfigError(
                f"connection {self.name!r} ({self.vendor}) has no {direction} mapping",
                code="config.no_mapping",
                problems=[f"mappings: name an {direction} mapping file for {self.name!r}"],
            )
        return found

    def close(self) -> None:
        """Release clients (HTTP pools); called when the runtime stops."""
