"""The contract every connector passes. Subclass :class:`ConnectorContract` in a
``test_<vendor>_contract.py`` module and provide its fixtures; see the existing subclasses.

A connector *declares* what it is (``syncwright.connectors.Connector``: ``takes_webhooks``,
``maps_inbound``, ``streams``, ``actions``, ``options_model``, ``documented_errors``); this suite
checks every declaration against the connector's behaviour on its own emulator. Nothing is
skipped as "not offered": what a connector declares it does not do, the suite checks it does
not do.

Fixtures a subclass provides:

- ``world``: a :class:`ContractWorld` -- the connector, bound to a real Runtime whose
  connection points at the vendor's emulator, and step contexts for it.
- ``secrets``: every secret value its config holds (none may leak).
- ``action_script``: ``[(action name, args), ...]`` run in order against the emulator; it
  names every action the connector declares (args follow ``(ctx, connection)``).
- ``error_cases``: documented error code -> a callable that makes the emulator answer with it.
- ``vendor_samples``: deliveries built from the vendor's own sample payloads (``tests/vendor``
  holds the repo's copies of ``../shared/vendor``; see ``shared/vendor/MANIFEST.md``).
- when it takes webhooks: ``signed_webhook`` -> ``(body, headers)`` signed as the vendor signs;
  optionally ``tampered_webhook`` (default: the signed body plus one byte) that must be refused.
  With ``webhook_body_signed = False`` (a secret carried in the body, not a signature over
  it): ``forged_webhooks`` -> deliveries that must be refused, instead of both defaults.
- when it maps inbound events: ``ignored_delivery`` and ``malformed_delivery``.
- when it declares streams: ``new_stream_event`` -> a callable that makes the emulator produce
  one new event on the first polled stream.
"""

from __future__ import annotations

import contextlib
import inspect
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from importlib import metadata
from typing import Any, ClassVar

import pytest

from syncwright.config import ENTRY_POINT_GROUP, installed_vendors
from syncwright.connectors import (
    ACTIONS,
    Connector,
    ConnectorOptions,
    Delivery,
    connector_class,
)
from syncwright.engine import StepContext
from syncwright.errors import AuthError, BusinessRuleError, ConfigError, SyncwrightError
from syncwright.model.events import parse_event

ActionScript = Sequence[tuple[str, tuple[Any, ...]]]
# Read-only actions need no probe: nothing can have been half-applied.
READ_PREFIXES = ("read_", "check_")


@dataclass
class ContractWorld:
    connector: Connector
    ctx: Callable[[str], StepContext]


class ConnectorContract:
    # Actions the connector must offer (it may offer more, all from the vocabulary).
    required_actions: ClassVar[frozenset[str]] = frozenset()
    # False for a vendor whose webhooks carry a shared secret in the body instead of a
    # signature over it (Business Central's clientState): a changed byte cannot be detected,
    # so the subclass's ``forged_webhooks`` fixture lists deliveries that must be refused.
    webhook_body_signed: ClassVar[bool] = True

    @pytest.fixture
    def connector(self, world: ContractWorld) -> Connector:
        return world.connector

    # -- identity and declarations ---------------------------------------------------------
    def test_is_installed_through_its_entry_point(self, connector: Connector) -> None:
        cls = type(connector)
        assert connector.vendor in installed_vendors()
        (entry,) = [
            e for e in metadata.entry_points(group=ENTRY_POINT_GROUP) if e.name == connector.vendor
        ]
        assert entry.value == f"{cls.__module__}:{cls.__qualname__}"
        assert connector_class(connector.vendor) is cls

    def test_declarations_are_well_formed(self, connector: Connector) -> None:
        cls = type(connector)
        assert self.required_actions <= set(cls.actions)
        assert set(cls.actions) <= ACTIONS, set(cls.actions) - ACTIONS
        for name, action in cls.actions.items():
            for step in (action.run, action.probe):
                if step is not None:
                    params = list(inspect.signature(step).parameters)
                    assert params[:2] == ["ctx", "connection"], (name, params)
            if action.compensate is not None:
                params = list(inspect.signature(action.compensate).parameters)
                assert params[0] == "ctx" and params[2] == "connection", (name, params)
            if not name.startswith(READ_PREFIXES):
                # An uncertain write is probed before any retry: every write needs its probe.
                assert action.probe is not None, f"write action {name!r} has no probe"
        names = [s.name for s in cls.streams]
        assert len(names) == len(set(names))
        assert set(connector.poll_streams) <= set(names)
        assert issubclass(cls.options_model, ConnectorOptions)
        assert all(issubclass(k, SyncwrightError) for k in cls.documented_errors.values())
        assert not connector.can("no_such_action")

    def test_secrets_never_show_in_reprs(self, connector: Connector, secrets: list[str]) -> None:
        shown = repr(connector.settings) + str(connector.settings) + repr(connector)
        for secret in secrets:
            assert secret not in shown

    # -- outbound --------------------------------------------------------------------------
    def test_every_action_runs_against_the_emulator(
        self, world: ContractWorld, action_script: ActionScript
    ) -> None:
        connector = world.connector
        assert {name for name, _ in action_script} == set(connector.actions), (
            "the script must run every declared action"
        )
        done: list[tuple[str, tuple[Any, ...], Any]] = []
        for name, args in action_script:
            action = connector.action(name)
            result = action.run(world.ctx(f"contract.{name}"), connector.name, *args)
            assert result is not None, name
            if action.probe is not None:
                # After a write that landed, its probe finds it (that is what makes retries safe).
                found = action.probe(world.ctx(f"contract.{name}.probe"), connector.name, *args)
                assert found is not None, f"probe of {name} did not find what it wrote"
            done.append((name, args, result))
        for name, args, result in reversed(done):
            compensate = connector.action(name).compensate
            if compensate is not None:
                compensate(world.ctx(f"contract.{name}.undo"), result, connector.name, *args)

    def test_documented_errors_map_to_their_class(
        self,
        connector: Connector,
        error_cases: dict[str, Callable[[], Any]],
        secrets: list[str],
    ) -> None:
        documented = type(connector).documented_errors
        assert documented, "declare the vendor's documented errors (documented_errors)"
        assert set(error_cases) == set(documented), "provoke every documented error"
        for code, provoke in error_cases.items():
            with pytest.raises(SyncwrightError) as raised:
                provoke()
            error = raised.value
            assert type(error) is documented[code], (code, error)
            assert error.code == f"{connector.vendor}.{code}", (code, error.code)
            if isinstance(error, BusinessRuleError):
                assert error.remediation, code
            for secret in secrets:
                assert secret not in str(error) and secret not in repr(error)

    # -- polling ---------------------------------------------------------------------------
    def test_polling_cursor_round_trips(
        self, connector: Connector, request: pytest.FixtureRequest
    ) -> None:
        with pytest.raises(ConfigError):
            connector.poll("no_such_stream", None)
        if not type(connector).streams:
            assert connector.poll_streams == ()
            return
        new_event: Callable[[], None] = request.getfixturevalue("new_stream_event")
        stream = (connector.poll_streams or tuple(s.name for s in connector.streams))[0]
        seen, cursor = _drain(connector, stream, None)
        new_event()
        fresh, moved = _drain(connector, stream, cursor)
        assert fresh, "an event made after the cursor was not read"
        assert not set(fresh) & set(seen), "events before the cursor were read again"
        assert moved is not None and moved != cursor
        again, same = _drain(connector, stream, moved)
        assert again == [] and same == moved

    # -- inbound ---------------------------------------------------------------------------
    def test_webhook_declaration_holds(
        self, connector: Connector, secrets: list[str], request: pytest.FixtureRequest
    ) -> None:
        verifier = connector.webhook_verifier()
        if not type(connector).takes_webhooks:
            assert verifier is None, "declared takes_webhooks = False but verifies webhooks"
            return
        assert verifier is not None, "takes webhooks, yet no verifier for configured secrets"
        body, headers = request.getfixturevalue("signed_webhook")
        verifier.verify(body, headers)
        # A scheme that authenticates the sender but signs no bytes (Chargebee's basic auth
        # plus re-fetch) provides its own tampered delivery: one whose content was changed.
        forged: list[tuple[bytes, Any]]
        if not self.webhook_body_signed:
            forged = request.getfixturevalue("forged_webhooks")
        else:
            try:
                tampered = request.getfixturevalue("tampered_webhook")
            except pytest.FixtureLookupError:
                tampered = (body + b" ", headers)
            forged = [tampered, (body, {"content-type": "application/json"})]
        assert forged
        errors = []
        for forged_body, forged_headers in forged:
            with pytest.raises(AuthError) as refused:
                verifier.verify(forged_body, forged_headers)
            errors.append(refused.value)
        for error in errors:
            assert error.code and error.code != AuthError.default_code
            for secret in secrets:
                assert secret not in str(error) and secret not in repr(error)

    def test_vendor_samples_map_or_park(
        self, connector: Connector, vendor_samples: list[Delivery]
    ) -> None:
        """The vendor's own payloads: each maps to valid versioned events, deterministically,
        or parks with remediation -- never crashes. A connector that declares no inbound
        mapping maps none of them."""
        assert vendor_samples
        if not type(connector).maps_inbound:
            for sample in vendor_samples:
                with contextlib.suppress(NotImplementedError):  # no normalize at all
                    assert connector.normalize(sample) == []
            return
        mapped = 0
        for sample in vendor_samples:
            try:
                events = connector.normalize(sample)
            except BusinessRuleError as exc:
                assert exc.remediation, sample.event_type
                continue
            mapped += bool(events)
            for event in events:
                parsed = parse_event(event.model_dump(mode="json"))
                assert parsed.correlationid == sample.correlation_id
                assert parsed.entitykey and ":" in parsed.entitykey
                assert parsed.source.endswith(sample.connection)
            again = connector.normalize(sample)
            assert _stable(events) == _stable(again)
        assert mapped, "not one vendor sample mapped to an event"

    def test_unmapped_and_malformed_deliveries(
        self, connector: Connector, request: pytest.FixtureRequest
    ) -> None:
        if not type(connector).maps_inbound:
            return  # checked on the vendor's samples above: nothing maps
        ignored: Delivery = request.getfixturevalue("ignored_delivery")
        malformed: Delivery = request.getfixturevalue("malformed_delivery")
        assert connector.normalize(ignored) == []
        # A poisoned message parks with remediation (the dispatcher parks it), never crashes.
        with pytest.raises(BusinessRuleError) as raised:
            connector.normalize(malformed)
        assert raised.value.remediation


def _drain(connector: Connector, stream: str, cursor: str | None) -> tuple[list[str], str | None]:
    """Every event of ``stream`` after ``cursor``: (event ids, the cursor to resume from)."""
    ids: list[str] = []
    for _ in range(100):
        batch = connector.poll(stream, cursor)
        ids.extend(e.vendor_event_id for e in batch.events)
        cursor = batch.cursor if batch.cursor is not None else cursor
        if not batch.has_more:
            return ids, cursor
    raise AssertionError(f"stream {stream!r} never ran out of pages")


def _stable(events: list[Any]) -> list[dict[str, Any]]:
    dumped = [e.model_dump(mode="json") for e in events]
    for event in dumped:
        event.pop("time", None)
    return dumped
