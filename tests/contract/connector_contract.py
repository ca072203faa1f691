"""The contract every connector passes. Subclass :class:`ConnectorContract` in a
``test_<vendor>_contract.py`` module and provide its fixtures; see the existing subclasses.

Fixtures a subclass provides:
- ``connector``: the connector, bound to a real :class:`~syncwright.runtime.Runtime`.
- ``secrets``: every secret value its config holds (none may leak).
- For connectors that take webhooks (``takes_webhooks = True``): ``signed_webhook`` ->
  ``(body, headers)`` signed as the vendor signs, and ``mapped_delivery`` / ``ignored_delivery``
  / ``malformed_delivery`` -> :class:`~syncwright.connectors._base.Delivery`.
"""

from __future__ import annotations

import inspect
from typing import ClassVar

import pytest

from syncwright.connectors._base import Connector, Delivery, connector_class
from syncwright.connectors._base.vocabulary import ACTIONS
from syncwright.errors import AuthError, BusinessRuleError
from syncwright.model.events import parse_event


class ConnectorContract:
    takes_webhooks: ClassVar[bool] = True
    # Actions the connector must offer (it may offer more, all from the vocabulary).
    required_actions: ClassVar[frozenset[str]] = frozenset()

    # Defaults for outbound-only connectors; a connector that takes webhooks overrides them.
    @pytest.fixture
    def signed_webhook(self) -> tuple[bytes, dict[str, str]]:
        pytest.skip("not offered by this connector (see its class docstring)")

    @pytest.fixture
    def mapped_delivery(self) -> Delivery:
        pytest.skip("not offered by this connector (see its class docstring)")

    @pytest.fixture
    def ignored_delivery(self) -> Delivery:
        pytest.skip("not offered by this connector (see its class docstring)")

    @pytest.fixture
    def malformed_delivery(self) -> Delivery:
        pytest.skip("not offered by this connector (see its class docstring)")

    # -- identity and actions ------------------------------------------------------------
    def test_is_registered_under_its_vendor(self, connector: Connector) -> None:
        assert isinstance(connector.vendor, str) and connector.vendor
        assert connector_class(connector.vendor) is type(connector)

    def test_actions_come_from_the_vocabulary(self, connector: Connector) -> None:
        assert self.required_actions <= set(connector.actions)
        assert set(connector.actions) <= ACTIONS, set(connector.actions) - ACTIONS
        for name, action in connector.actions.items():
            for step in (action.run, action.probe):
                if step is None:
                    continue
                params = list(inspect.signature(step).parameters)
                assert params[:2] == ["ctx", "connection"], (name, params)
            if action.compensate is not None:
                params = list(inspect.signature(action.compensate).parameters)
                assert params[0] == "ctx" and params[2] == "connection", (name, params)
        assert connector.can(next(iter(connector.actions))) if connector.actions else True
        assert not connector.can("no_such_action")

    def test_secrets_never_show_in_reprs(self, connector: Connector, secrets: list[str]) -> None:
        shown = repr(connector.settings) + str(connector.settings) + repr(connector)
        for secret in secrets:
            assert secret not in shown

    # -- inbound ---------------------------------------------------------------------------
    def test_webhook_verification(
        self, connector: Connector, signed_webhook: tuple[bytes, dict[str, str]], secrets: list[str]
    ) -> None:
        verifier = connector.webhook_verifier()
        assert verifier is not None
        body, headers = signed_webhook
        verifier.verify(body, headers)
        with pytest.raises(AuthError) as tampered:
            verifier.verify(body + b" ", headers)
        with pytest.raises(AuthError) as unsigned:
            verifier.verify(body, {"content-type": "application/json"})
        for error in (tampered.value, unsigned.value):
            assert error.code and error.code != AuthError.default_code
            for secret in secrets:
                assert secret not in str(error) and secret not in repr(error)

    def test_outbound_only_connectors_refuse_webhooks(self, connector: Connector) -> None:
        if self.takes_webhooks:
            assert connector.webhook_verifier() is not None
        else:
            assert connector.webhook_verifier() is None

    def test_normalize_yields_valid_versioned_events(
        self, connector: Connector, mapped_delivery: Delivery
    ) -> None:
        events = connector.normalize(mapped_delivery)
        assert events, "the mapped delivery produced no event"
        for event in events:
            data = event.model_dump(mode="json")
            parsed = parse_event(data)  # a registered type, data valid for its version
            assert parsed.correlationid == mapped_delivery.correlation_id
            assert parsed.entitykey and ":" in parsed.entitykey
            assert parsed.source.endswith(mapped_delivery.connection)

    def test_normalize_is_deterministic(
        self, connector: Connector, mapped_delivery: Delivery
    ) -> None:
        first = [e.model_dump(mode="json") for e in connector.normalize(mapped_delivery)]
        again = [e.model_dump(mode="json") for e in connector.normalize(mapped_delivery)]
        for event in first + again:
            event.pop("time", None)
        assert first == again

    def test_unmapped_events_are_acknowledged_and_ignored(
        self, connector: Connector, ignored_delivery: Delivery
    ) -> None:
        assert connector.normalize(ignored_delivery) == []

    def test_malformed_payloads_are_parkable(
        self, connector: Connector, malformed_delivery: Delivery
    ) -> None:
        """A poisoned message must raise a BusinessRuleError with remediation (the dispatcher
        parks it), never crash with an arbitrary exception."""
        with pytest.raises(BusinessRuleError) as raised:
            connector.normalize(malformed_delivery)
        assert raised.value.remediation
