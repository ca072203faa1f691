"""The Dynamics 365 Business Central connector: an ERP target (the actions the billing and
onboarding workflows ask an ERP for) that also takes customer changes in, by webhook and by
polling ``lastModifiedDateTime``.

Authentication: Microsoft Entra ID client credentials (``credentials.client_id`` and
``credentials.client_secret`` of an app registration Business Central knows, scope
``https://api.businesscentral.dynamics.com/.default``). Limits: Microsoft's published 6,000
requests per 5 minutes per service principal (20 per second on average) and 100 requests in
flight are the defaults; 429 answers retry after ``Retry-After``.
"""

from __future__ import annotations

import json
import re
import ssl
import threading
from collections.abc import Iterator, Mapping
from typing import Any

import httpx

from syncwright.connectors import (
    Action,
    Connector,
    Delivery,
    PollBatch,
    PolledEvent,
    Stream,
    WebhookIdentity,
    WebhookVerifier,
)
from syncwright.connectors.business_central import (
    billing,
    checks,
    outbound,
    receivables,
    snapshots,
)
from syncwright.connectors.business_central._auth import EntraClientCredentials
from syncwright.connectors.business_central._errors import DOCUMENTED_ERRORS
from syncwright.connectors.business_central.client import BusinessCentralClient
from syncwright.connectors.business_central.inbound import (
    ClientStateVerifier,
    normalize,
    notification_of,
)
from syncwright.connectors.business_central.options import BusinessCentralOptionsModel
from syncwright.errors import BusinessRuleError, ConfigError
from syncwright.reconcile.snapshot import Dataset, SnapshotRecord

__all__ = ["DEFAULT_BASE_URL", "BusinessCentralConnector"]

DEFAULT_BASE_URL = "https://api.businesscentral.dynamics.com"
DEFAULT_CONCURRENCY = 100  # Microsoft: max 100 simultaneous OData requests
DEFAULT_REQUESTS_PER_SECOND = 20.0  # 6,000 per 5-minute window


class BusinessCentralConnector(Connector):
    vendor = "business_central"
    #: What reconciliation can read here (``syncwright.reconcile``).
    reconcile_datasets: tuple[str, ...] = snapshots.DATASETS
    takes_webhooks = True
    maps_inbound = True
    options_model = BusinessCentralOptionsModel
    streams = (
        Stream(
            "customers",
            "/companies({company_id})/customers",
            primary_key="id",
            cursor_field="lastModifiedDateTime",
            description="customers changed since the cursor (heals missed notifications)",
        ),
    )
    documented_errors = DOCUMENTED_ERRORS
    actions = {
        "upsert_account": Action(outbound.upsert_customer, probe=outbound.probe_customer),
        "upsert_sales_order": Action(
            outbound.upsert_sales_order,
            probe=outbound.probe_sales_order,
            compensate=outbound.void_sales_order,
        ),
        "close_sales_order": Action(
            outbound.close_sales_order, probe=outbound.probe_close_sales_order
        ),
        "upsert_invoice": Action(
            billing.upsert_invoice, probe=billing.probe_invoice, compensate=billing.void_invoice
        ),
        "apply_payment": Action(
            receivables.apply_payment,
            probe=receivables.probe_apply_payment,
            compensate=receivables.void_payment,
        ),
        "mark_dunning": Action(receivables.mark_dunning, probe=receivables.probe_mark_dunning),
        "upsert_credit_memo": Action(
            billing.upsert_credit_memo,
            probe=billing.probe_credit_memo,
            compensate=billing.void_credit_memo,
        ),
        "check_credit": Action(checks.check_credit),
        "check_customer": Action(checks.check_customer),
        "check_products": Action(checks.check_products),
        "check_tax": Action(checks.check_tax),
    }

    def __init__(self, name: str, settings: Any) -> None:
        super().__init__(name, settings)
        self.options: BusinessCentralOptionsModel = self.parse_options(name, settings.options)
        self.limiter, self.rate_limiter = self.limiters(
            default_concurrency=DEFAULT_CONCURRENCY,
            default_requests_per_second=DEFAULT_REQUESTS_PER_SECOND,
        )
        self._client: BusinessCentralClient | None = None
        self._http: httpx.Client | None = None
        self._lock = threading.Lock()
        self._tax_areas: dict[str, str] = {}
        self._journal: str | None = None

    def __repr__(self) -> str:
        return f"BusinessCentralConnector({self.name!r}, tenant={self.options.tenant!r})"

    # -- client ----------------------------------------------------------------------------

    def _credential(self, key: str) -> str:
        given = self.settings.credentials.get(key)
        value = given.reveal() if given is not None else ""
        if not value:
            raise ConfigError(
                f"connection {self.name!r}: Business Central credentials are incomplete",
                code="config.business_central_credentials",
                problems=[f"connections.{self.name}.credentials.{key}: not set"],
            )
        return str(value)

    @property
    def client(self) -> BusinessCentralClient:
        if self._client is None:
            with self._lock:
                if self._client is None:
                    options = self.options
                    timeout = self.settings.limits.timeout_seconds
                    verify: Any = (
                        ssl.create_default_context(cafile=options.ca_file)
                        if options.ca_file
                        else True
                    )
                    self._http = httpx.Client(timeout=timeout, verify=verify, trust_env=False)
                    token_url = (
                        f"{options.login_url.rstrip('/')}/{options.tenant}/oauth2/v2.0/token"
                    )
                    auth = EntraClientCredentials(
                        token_url,
                        self._credential("client_id"),
                        self._credential("client_secret"),
                        http=self._http,
                    )
                    base = str(self.settings.base_url or DEFAULT_BASE_URL).rstrip("/")
                    root = f"{base}/v2.0/{options.tenant}/{options.environment}/api/v2.0"
                    self._client = BusinessCentralClient(
                        root,
                        options.company_id,
                        auth=auth,
                        timeout=timeout,
                        http=self._http,
                        connection=self.name,
                        limiter=self.limiter,
                        rate=self.rate_limiter,
                    )
        return self._client

    def tax_area_id(self, legal_entity: str | None) -> str | None:
        """The tax area of ``options.tax_areas`` for a legal entity (or ``default``), by id."""
        areas = self.options.tax_areas
        code = areas.get(legal_entity or "default") or areas.get("default")
        if code is None:
            return None
        if code not in self._tax_areas:
            found = self.client.find("taxAreas", "code", code)
            if found is None:
                raise BusinessRuleError(
                    f"tax area {code} does not exist in Business Central",
                    code="business_central.unknown_tax_area",
                    remediation=(
                        f"Create tax area {code} in Business Central or correct "
                        f"connections.{self.name}.options.tax_areas, then retry."
                    ),
                )
            self._tax_areas[code] = str(found["id"])
        return self._tax_areas[code]

    def payment_journal_id(self) -> str:
        """The payment journal payments go to (``options.payment_journal``, else the first)."""
        if self._journal is None:
            wanted = self.options.payment_journal
            journals = list(self.client.query("customerPaymentJournals"))
            found = [j for j in journals if wanted is None or j.get("code") == wanted]
            if not found:
                raise BusinessRuleError(
                    f"no customer payment journal {wanted or ''} in Business Central".replace(
                        "  ", " "
                    ),
                    code="business_central.no_payment_journal",
                    remediation=(
                        "Create a customer payment journal in Business Central or correct "
                        f"connections.{self.name}.options.payment_journal, then retry."
                    ),
                )
            self._journal = str(found[0]["id"])
        return self._journal

    # -- reconciliation ----------------------------------------------------------------------

    def snapshot(self, dataset: Dataset) -> Iterator[SnapshotRecord]:
        """Posted invoices or sales orders as Business Central holds them (``reconcile``)."""
        return snapshots.snapshot(self.client, dataset)

    def reemit(self, dataset: Dataset, native_id: str, reason: str) -> list[PolledEvent]:
        """Business Central is compared as the target of billing data; it re-sends nothing."""
        return []

    # -- inbound -----------------------------------------------------------------------------

    def webhook_verifier(self) -> WebhookVerifier | None:
        secrets = [s.reveal() for s in self.settings.webhook.secrets if s.reveal().strip()]
        return ClientStateVerifier(secrets) if secrets else None

    def webhook_handshake(self, query: Mapping[str, str]) -> str | None:
        """Business Central validates a subscription by calling the notification URL with
        ``?validationToken=...``; the answer is the token itself."""
        token = query.get("validationToken")
        return token if token and len(token) <= 1024 else None

    def identify(self, payload: Any, body: bytes) -> WebhookIdentity:
        """A batch has no id of its own: one notification is keyed by its resource and time;
        a batch of several by its digest (``Connector.identify``)."""
        notifications = payload.get("value") if isinstance(payload, dict) else None
        if isinstance(notifications, list) and len(notifications) == 1:
            only = notifications[0]
            if isinstance(only, dict) and only.get("resource") and only.get("lastModifiedDateTime"):
                key = f"{only['resource']}@{only['lastModifiedDateTime']}"
                return WebhookIdentity(key, f"notification.{only.get('changeType')}")
        identity = super().identify(payload, body)
        return WebhookIdentity(identity.vendor_event_id, "notification.batch")

    def normalize(self, delivery: Delivery) -> list[Any]:
        return normalize(delivery, self)

    def poll(self, stream: str, cursor: str | None) -> PollBatch:
        """Customers changed after ``cursor`` (a ``lastModifiedDateTime``), oldest first; each
        lands in the inbox as the notification a webhook would have sent."""
        self.stream(stream)
        page_size = self.options.page_size
        query = "lastModifiedDateTime gt " + cursor if cursor else None
        if cursor is not None and not _is_timestamp(cursor):
            raise ConfigError(
                f"connection {self.name!r}: customers cursor {cursor!r} is not a date-time",
                code="business_central.bad_cursor",
                problems=[f"sw_cursors {self.name}/customers: reset it or delete it"],
            )
        rows = self.client.query(
            "customers", filter=query, orderby="lastModifiedDateTime", top=page_size + 1
        )
        records = list(rows)
        page = records[:page_size]
        events = []
        for record in page:
            body = notification_of(record, self.options.company_id, "customers")
            key = f"{body['value'][0]['resource']}@{record.get('lastModifiedDateTime')}"
            events.append(PolledEvent(key, "notification.updated", json.dumps(body)))
        last = page[-1].get("lastModifiedDateTime") if page else None
        return PollBatch(events, str(last) if last else None, has_more=len(records) > page_size)

    def close(self) -> None:
        with self._lock:
            if self._http is not None:
                self._http.close()
            self._client = None
            self._http = None


def _is_timestamp(text: str) -> bool:
    return re.fullmatch(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z", text) is not None
