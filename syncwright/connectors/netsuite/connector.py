"""The NetSuite connector: an ERP target, and a source of the customer facts the ERP owns
(``customers``: polled through SuiteQL by last-modified time, see ``inbound``; opt in with
``options.poll_streams: [customers]``). NetSuite sends no webhooks we accept.

Every request of this process to the account goes through one :class:`ConcurrencyLimiter` slot
(and one :class:`RateLimiter` token), because NetSuite governs *requests in flight per account*
and refuses the one over the limit with 429 at once. Oracle: "Web Services and RESTlet
Concurrency Governance"
https://docs.oracle.com/en/cloud/saas/netsuite/ns-online-help/subsect_1559222360.html
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import ExitStack
from decimal import Decimal
from typing import Any
from urllib.parse import urlsplit

import httpx

from syncwright.connectors import (
    Action,
    ConcurrencyLimiter,
    Connector,
    Delivery,
    PollBatch,
    PolledEvent,
    RateLimiter,
    Stream,
    WebhookVerifier,
    honour_retry_after,
)
from syncwright.connectors.netsuite import (
    checks,
    inbound,
    outbound,
    periods,
    refunds,
    snapshots,
)
from syncwright.connectors.netsuite._errors import PERIOD_OPEN_CHECK
from syncwright.connectors.netsuite._oauth import TbaCredentials
from syncwright.connectors.netsuite.client import NetSuiteClient
from syncwright.connectors.netsuite.mapping import NetSuiteOptions
from syncwright.connectors.netsuite.options import NetSuiteOptionsModel
from syncwright.errors import AuthError, BusinessRuleError, ConfigError, TransientError
from syncwright.reconcile.snapshot import Dataset, SnapshotRecord

__all__ = ["DEFAULT_CONCURRENCY", "GovernedHttpClient", "NetSuiteConnector", "account_from_host"]

# The shared service tier's account limit; a connection on a larger tier (or with SuiteCloud
# Plus licences) raises ``limits.concurrency`` (with ``limits.scope: shared`` for several workers).
DEFAULT_CONCURRENCY = 5
_CREDENTIALS = ("consumer_key", "consumer_secret", "token_id", "token_secret")


class GovernedHttpClient(httpx.Client):
    """An httpx client whose every request waits for a rate token, is signed, then holds a
    concurrency slot from just before it is sent until its response has been read.

    Signing happens before the slot is taken, so the slot covers only the time NetSuite can
    count; a request that then waited longer than ``resign_after_seconds`` for its slot is
    signed again, so its OAuth timestamp is always fresh. The auth must be single-step (TBA is).

    A request we stopped waiting for (read or write timeout) is still running at NetSuite and
    still counts against the account: its slot is kept for ``timeout_hold_seconds`` more before
    it is given back, so a burst right after a timeout does not breach the limit.
    """

    def __init__(
        self,
        limiter: ConcurrencyLimiter,
        rate_limiter: RateLimiter,
        *,
        timeout_hold_seconds: float = 0.0,
        resign_after_seconds: float = 5.0,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.limiter = limiter
        self.rate_limiter = rate_limiter
        self.timeout_hold_seconds = timeout_hold_seconds
        self.resign_after_seconds = resign_after_seconds

    def send(self, request: httpx.Request, **kwargs: Any) -> httpx.Response:
        # The token first, so that no slot is held while waiting for one.
        self.rate_limiter.acquire()
        auth = kwargs.pop("auth", httpx.USE_CLIENT_DEFAULT)
        signing = auth if isinstance(auth, httpx.Auth) else None
        if signing is not None:
            request = next(signing.sync_auth_flow(request))
            auth = None  # signed: httpx must not run the flow again
        signed_at = time.monotonic()
        slot = ExitStack()
        slot.enter_context(self.limiter.slot())
        try:
            if signing is not None and time.monotonic() - signed_at > self.resign_after_seconds:
                request = next(signing.sync_auth_flow(request))
            response = super().send(request, auth=auth, **kwargs)
            honour_retry_after(self.rate_limiter, response)
            return response
        except (httpx.ReadTimeout, httpx.WriteTimeout):
            if self.timeout_hold_seconds > 0:
                release = threading.Timer(self.timeout_hold_seconds, slot.close)
                release.daemon = True
                release.start()
                slot = ExitStack()  # the timer owns the slot now
            raise
        finally:
            slot.close()


def account_from_host(base_url: str) -> str | None:
    """``https://1234567-sb1.suitetalk.api.netsuite.com`` -> ``1234567_SB1`` (Oracle: account-
    specific domains write the account id lower case with ``-`` for ``_``)."""
    host = urlsplit(base_url).hostname or ""
    if not host.endswith(".suitetalk.api.netsuite.com"):
        return None
    return host.split(".", 1)[0].replace("-", "_").upper()


class NetSuiteConnector(Connector):
    vendor = "netsuite"
    #: What reconciliation can read here (``syncwright.reconcile``).
    reconcile_datasets: tuple[str, ...] = ("invoices", "subscriptions")
    # NetSuite sends no webhooks we accept; customers are polled (when a connection opts in).
    takes_webhooks = False
    maps_inbound = True
    streams = (
        # Oracle: "Executing SuiteQL Queries Through REST Web Services" (section_157909186990)
        Stream(
            "customers",
            "/services/rest/query/v1/suiteql",
            primary_key="id",
            cursor_field="lastmodifieddate",
            description="customers by last-modified time: the facts the ERP owns",
        ),
    )
    # Off unless ``options.poll_streams`` names it: an ERP that is only a target is not polled.
    poll_streams = ()
    options_model = NetSuiteOptionsModel
    # Oracle, "Error Handling in REST Web Services" and the governance pages: the codes this
    # connector raises as netsuite.<code>.
    documented_errors = {
        "INVALID_LOGIN": AuthError,
        "INVALID_CONTENT": BusinessRuleError,
        "NONEXISTENT_ID": BusinessRuleError,
        "INVALID_RCRD_TYPE": BusinessRuleError,
        "USER_ERROR": BusinessRuleError,
        "UNEXPECTED_ERROR": TransientError,
        "CONCURRENCY_LIMIT_EXCEEDED": TransientError,
    }
    # Canonical action names (what workflows ask for) -> steps of ``outbound``.
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
            outbound.upsert_invoice, probe=outbound.probe_invoice, compensate=outbound.void_invoice
        ),
        "apply_payment": Action(
            outbound.apply_payment,
            probe=outbound.probe_apply_payment,
            compensate=outbound.void_payment,
        ),
        "mark_dunning": Action(outbound.mark_dunning, probe=outbound.probe_mark_dunning),
        "upsert_credit_memo": Action(
            outbound.upsert_credit_memo,
            probe=outbound.probe_credit_memo,
            compensate=outbound.void_credit_memo,
        ),
        # Read-only checks for synchronous validation (``syncwright.validation``).
        "book_refund": Action(
            refunds.book_refund, probe=refunds.probe_refund, compensate=refunds.void_refund
        ),
        "check_credit": Action(checks.check_credit),
        "check_customer": Action(checks.check_customer),
        "check_products": Action(checks.check_products),
        "check_tax": Action(checks.check_tax),
    }

    def __init__(self, name: str, settings: Any) -> None:
        super().__init__(name, settings)
        # Option errors stop the process at start-up, not at the first order.
        model: NetSuiteOptionsModel = self.parse_options(name, settings.options)
        self.options = NetSuiteOptions.from_model(name, model)
        self.limiter, self.rate_limiter = self.limiters(default_concurrency=DEFAULT_CONCURRENCY)
        self._client: NetSuiteClient | None = None
        self._http: GovernedHttpClient | None = None
        self._lock = threading.Lock()
        self._tax_rates: dict[str, Decimal] = {}
        self._subsidiaries: dict[str, str] = {}  # customer internal id -> subsidiary id
        if model.poll_streams:
            # Which declared streams this connection runs (the options model checked the names).
            vars(self)["poll_streams"] = tuple(model.poll_streams)
        self._poll_page = model.poll_page_size

    def webhook_verifier(self) -> WebhookVerifier | None:
        return None

    def poll(self, stream: str, cursor: str | None) -> PollBatch:
        self.stream(stream)  # a ConfigError naming the declared streams if unknown
        return inbound.poll_customers(self, cursor, self._poll_page)

    def normalize(self, delivery: Delivery) -> list[Any]:
        return inbound.normalize_customer(self, delivery)

    def snapshot(self, dataset: Dataset) -> Iterator[SnapshotRecord]:
        """Invoices or sales orders as NetSuite holds them (``syncwright.reconcile``)."""
        return snapshots.snapshot(self.client, self.options.currencies, dataset)

    def reemit(self, dataset: Dataset, native_id: str, reason: str) -> list[PolledEvent]:
        """NetSuite is compared as the target of billing data; it re-sends nothing."""
        return []

    def dependency_ready(self, waits_for: Mapping[str, Any]) -> bool:
        """Whether what a waiting exception waits for is there now: the accounting period of
        its posting open again (``check: accounting_period_open``)."""
        if waits_for.get("check") == PERIOD_OPEN_CHECK:
            return periods.period_open(self.client, str(waits_for.get("date") or "") or None)
        return False

    @property
    def account(self) -> str:
        account = self.options.account
        if account is None and self.settings.base_url:
            account = account_from_host(str(self.settings.base_url))
        if not account:
            raise ConfigError(
                f"connection {self.name!r}: the NetSuite account id is not set",
                code="config.netsuite_account",
                problems=[
                    f"connections.{self.name}.options.account: set the account id (the realm "
                    "of token-based authentication, e.g. 1234567 or 1234567_SB1)"
                ],
            )
        return account

    @property
    def base_url(self) -> str:
        if self.settings.base_url:
            return str(self.settings.base_url)
        slug = self.account.lower().replace("_", "-")
        return f"https://{slug}.suitetalk.api.netsuite.com"

    def _credentials(self) -> TbaCredentials:
        given = self.settings.credentials
        missing = [key for key in _CREDENTIALS if key not in given or not given[key].reveal()]
        if missing:
            raise ConfigError(
                f"connection {self.name!r}: NetSuite token-based authentication is incomplete",
                code="config.netsuite_credentials",
                problems=[f"connections.{self.name}.credentials.{key}: not set" for key in missing],
            )
        return TbaCredentials(**{key: given[key].reveal() for key in _CREDENTIALS})

    @property
    def client(self) -> NetSuiteClient:
        """The one client of this connection (thread-safe; steps run on many threads)."""
        if self._client is None:
            with self._lock:
                if self._client is None:
                    timeout = self.settings.limits.timeout_seconds
                    credentials = self._credentials()
                    self._http = GovernedHttpClient(
                        self.limiter,
                        self.rate_limiter,
                        timeout_hold_seconds=timeout,
                        timeout=timeout,
                    )
                    self._client = NetSuiteClient(
                        self.base_url, self.account, credentials, timeout=timeout, http=self._http
                    )
        return self._client

    def tax_rate(self, tax_code: str) -> Decimal:
        """The rate (percent) of a tax code, read once per process; tax codes rarely change."""
        if tax_code not in self._tax_rates:
            # Oracle REST API browser: salesTaxItem.rate
            record = self.client.get("salesTaxItem", tax_code)
            rate = record.get("rate")
            if rate is None:
                raise BusinessRuleError(
                    f"NetSuite tax code {tax_code} has no rate",
                    code="netsuite.tax_code_rate",
                    remediation=(
                        f"Tax code {tax_code} is a group or has no rate: map a plain tax code "
                        f"under connections.{self.name}.options.tax_codes, then retry."
                    ),
                )
            self._tax_rates[tax_code] = Decimal(str(rate).rstrip("%"))
        return self._tax_rates[tax_code]

    def customer_subsidiary(self, customer_id: str) -> str:
        """The subsidiary of a customer (for its documents' tax code), read once per process:
        NetSuite does not let a customer with transactions change subsidiary, and a customer
        this process writes is remembered as written (``remember_customer_subsidiary``)."""
        known = self._subsidiaries.get(customer_id)
        if known is None:
            subsidiary = self.client.get("customer", customer_id).get("subsidiary")
            if isinstance(subsidiary, Mapping):
                subsidiary = subsidiary.get("id")
            known = "" if subsidiary is None else str(subsidiary)
            if known:
                self._subsidiaries[customer_id] = known
        return known

    def remember_customer_subsidiary(self, customer_id: str, subsidiary: str | None) -> None:
        if subsidiary:
            self._subsidiaries[customer_id] = subsidiary
        else:
            self._subsidiaries.pop(customer_id, None)

    def stats(self) -> dict[str, Any]:
        """The limiter's view: for ``/metrics`` and benchmarks."""
        return {
            "concurrency_limit": self.limiter.limit,
            "in_flight": self.limiter.in_flight,
            "max_in_flight": self.limiter.max_in_flight,
            "utilisation": round(self.limiter.utilisation(), 6),
            "requests_per_second": self.rate_limiter.per_second,
        }

    def close(self) -> None:
        with self._lock:
            if self._http is not None:
                self._http.close()
            self._client = None
            self._http = None
