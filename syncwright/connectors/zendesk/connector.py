"""The Zendesk Support connector: entitlements out to organizations, signed webhooks in.

Config (``connections.<name>`` in ``syncwright.yaml``; see this folder's README):
``base_url`` (``https://<subdomain>.zendesk.com``, or ``options.subdomain``),
``credentials.email`` and ``credentials.api_token``, ``webhook.secrets`` (several during a
rotation), ``limits``, ``options.tier_field``, ``options.sla_field``, ``options.revoked_tier``.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator
from typing import Any

from syncwright.connectors import (
    Action,
    Connector,
    Delivery,
    PolledEvent,
    WebhookVerifier,
)
from syncwright.connectors.zendesk import snapshots
from syncwright.connectors.zendesk.client import ZendeskClient
from syncwright.connectors.zendesk.contacts import probe_contact, upsert_contact
from syncwright.connectors.zendesk.inbound import normalize
from syncwright.connectors.zendesk.options import ZendeskOptionsModel
from syncwright.connectors.zendesk.outbound import (
    ZendeskOptions,
    probe_entitlement,
    remove_entitlement,
    upsert_entitlement,
)
from syncwright.connectors.zendesk.signature import ZendeskSignatureVerifier
from syncwright.errors import AuthError, BusinessRuleError, ConfigError, TransientError
from syncwright.reconcile.snapshot import Dataset, SnapshotRecord

__all__ = ["ZendeskConnector"]

# Zendesk's per-account limit is per minute and depends on the plan: 200 (Team) to 700
# (Enterprise) and 2500 (High Volume add-on) -- https://developer.zendesk.com/api-reference/
# introduction/rate-limits/. The default start rate stays under the smallest plan's (3.3/s);
# set limits.requests_per_second for a larger plan.
DEFAULT_REQUESTS_PER_SECOND = 3.0
DEFAULT_CONCURRENCY = 5


class ZendeskConnector(Connector):
    vendor = "zendesk"
    #: What reconciliation can read here (``syncwright.reconcile``).
    reconcile_datasets: tuple[str, ...] = ("entitlements",)
    # Zendesk's event webhooks carry ``id`` and ``type`` at the top of the envelope.
    event_id_field = "id"
    event_type_field = "type"
    takes_webhooks = True
    maps_inbound = False  # no inbound mapping yet: deliveries are kept, acknowledged, unmapped
    options_model = ZendeskOptionsModel
    # https://developer.zendesk.com/api-reference/introduction/requests/ -- the errors this
    # connector raises as zendesk.<code> (a 401 body names no code: http_401).
    documented_errors = {
        "http_401": AuthError,
        "RecordNotFound": BusinessRuleError,
        "RecordInvalid": BusinessRuleError,
        "RateLimited": TransientError,
        "ServiceUnavailable": TransientError,
    }
    actions = {
        "upsert_entitlement": Action(
            upsert_entitlement, probe=probe_entitlement, compensate=remove_entitlement
        ),
        "upsert_contact": Action(upsert_contact, probe=probe_contact),
    }

    def __init__(self, name: str, settings: Any) -> None:
        super().__init__(name, settings)
        # Malformed options stop the process at start-up, with every problem named.
        self.typed_options: ZendeskOptionsModel = self.parse_options(name, settings.options)
        self.options = ZendeskOptions.parse(name, self.typed_options)
        self._client: ZendeskClient | None = None
        self._field_keys: frozenset[str] | None = None
        self._lock = threading.Lock()

    # -- inbound --------------------------------------------------------------------------

    def webhook_verifier(self) -> WebhookVerifier | None:
        secrets = [s.reveal() for s in self.settings.webhook.secrets if s.reveal().strip()]
        if not secrets:
            return None
        return ZendeskSignatureVerifier(
            secrets, tolerance_seconds=self.settings.webhook.tolerance_seconds
        )

    def normalize(self, delivery: Delivery) -> list[Any]:
        """Ticket events become canonical support cases by the connection's inbound mapping
        (``inbound.py``); other event types are acknowledged and produce nothing."""
        return normalize(delivery, self.services.xref, self.mapping("inbound"))

    # -- reconciliation -------------------------------------------------------------------

    def snapshot(self, dataset: Dataset) -> Iterator[SnapshotRecord]:
        """The tier each organization holds (``entitlements``)."""
        return snapshots.snapshot(self.client, self.options, dataset)

    def reemit(self, dataset: Dataset, native_id: str, reason: str) -> list[PolledEvent]:
        """Nothing: Zendesk is the target of entitlements, never their system of record."""
        return []

    # -- client ---------------------------------------------------------------------------

    @property
    def client(self) -> ZendeskClient:
        with self._lock:
            if self._client is None:
                self._client = self._build_client()
            return self._client

    def _build_client(self) -> ZendeskClient:
        credentials = self.settings.credentials
        problems = [
            f"connections.{self.name}.credentials.{key}: set it to ${{ZENDESK_"
            f"{key.upper()}}} or file:/path/to/{key}"
            for key in ("email", "api_token")
            if credentials.get(key) is None or not credentials[key].reveal().strip()
        ]
        base_url = self._base_url()
        if base_url is None:
            problems.append(
                f"connections.{self.name}.base_url: set it to https://<subdomain>.zendesk.com "
                "(or set options.subdomain)"
            )
        if problems:
            raise ConfigError(
                f"connection {self.name!r} (zendesk) is not fully configured",
                code="zendesk.not_configured",
                problems=problems,
            )
        assert base_url is not None
        limits = self.settings.limits
        limiter, rate = self.limiters(
            default_concurrency=DEFAULT_CONCURRENCY,
            default_requests_per_second=DEFAULT_REQUESTS_PER_SECOND,
        )
        return ZendeskClient(
            base_url,
            credentials["email"].reveal().strip(),
            credentials["api_token"].reveal(),
            timeout=limits.timeout_seconds,
            limiter=limiter,
            rate=rate,
        )

    def _base_url(self) -> str | None:
        if self.settings.base_url:
            return str(self.settings.base_url)
        subdomain = self.typed_options.subdomain
        if subdomain and subdomain.strip():
            return f"https://{subdomain.strip()}.zendesk.com"
        return None

    def missing_organization_fields(
        self, keys: Iterable[str], *, timeout: float | None = None
    ) -> list[str]:
        """Which of ``keys`` name no organization field in Zendesk. The field list is read
        once per process and again whenever a key is missing from it (it may have been
        created since)."""
        wanted = list(keys)
        known = self._field_keys
        if known is None or any(k not in known for k in wanted):
            fields = self.client.list_organization_fields(timeout=timeout)
            known = frozenset(str(f.get("key")) for f in fields if f.get("key"))
            self._field_keys = known
        return [k for k in wanted if k not in known]

    def close(self) -> None:
        with self._lock:
            if self._client is not None:
                self._client.close()
                self._client = None
