"""The ERP of a demo world, one small adapter per vendor.

Like ``billing_side.py``: the world always runs the NetSuite emulator; a stack may name Business
Central instead, whose adapter starts its emulator (TLS, Entra ID tokens), writes its connection
into the world's config, and reads records back through Business Central's own OData API.
The stories ask an adapter for an :class:`~syncwright.demo.billing_books.ErpLedger`: customers
and documents by the key the ERP files them under, which :meth:`ErpSide.key` derives from
syncwright's global id
(NetSuite's ``externalId`` is the id itself; Business Central's ``number`` and
``externalDocumentNumber`` are Code fields, the id or a digest of it).
"""

from __future__ import annotations

import json
import secrets
import ssl
from collections.abc import Iterator
from decimal import Decimal
from typing import Any, Literal, Protocol

import httpx

from syncwright.connectors.business_central.transforms import business_central_code
from syncwright.demo._faults import FaultSwitch, InjectedFaults
from syncwright.demo.billing_books import (
    CREDIT_MEMO,
    INVOICE,
    PAYMENT,
    SALES_ORDER,
    ErpDocument,
    ErpLedger,
)
from syncwright.demo.billing_world import BillingWorld
from syncwright.sandbox import FaultInjector, FaultPlan, ServerThread
from syncwright.sandbox.business_central import BC_SCOPE, COMPANY_ID
from syncwright.sandbox.business_central import create_app as create_business_central

__all__ = ["BusinessCentralErp", "ErpSide", "NetSuiteErp", "start_erp_side"]

Kind = Literal["customer", "document"]

BC_TENANT = "contoso.onmicrosoft.com"
BC_CONNECTION = """\
  business_central:
    vendor: business_central
    base_url: {url}
    credentials:
      client_id: "file:secrets/bc_client_id"
      client_secret: "file:secrets/bc_client_secret"
    webhook:
      secrets: ["file:secrets/bc_webhook_secret"]
    limits: {{timeout_seconds: {timeout}}}
    options:
      role: erp
      tenant: {tenant}
      company_id: {company}
      login_url: {url}
      ca_file: {ca_file}
      items: {items}
      default_item: SW-PRO
      # The emulator's company is British: its zero-rated area, so totals are the billed ones.
      tax_areas: {{default: UK-ZERO}}
      # Journal lines stay for finance to post: the API lists them, not posted payments.
      post_payments: false
      poll_interval_seconds: 3600
"""


class ErpSide(FaultSwitch, Protocol):
    vendor: str
    url: str

    def key(self, global_id: str, kind: Kind) -> str:
        """The key the ERP files syncwright's ``global_id`` under."""
        ...

    def configure(self, items: dict[str, str]) -> None:
        """Write this connection into the world's config; ``items`` maps CRM product ids to
        what the ERP sells them as (ERPs without a map use their default item)."""
        ...

    def ledger(self) -> ErpLedger:
        """Customers and documents (invoices, credit memos, sales orders, payments)."""
        ...


class NetSuiteErp(InjectedFaults):
    """NetSuite's SuiteQL (REST), as a reporting tool reads it."""

    vendor = "netsuite"

    def __init__(self, world: BillingWorld) -> None:
        self._world = world
        self.url = world.netsuite_server.url
        self.faults = world.netsuite.faults

    def key(self, global_id: str, kind: Kind) -> str:
        return global_id

    def configure(self, items: dict[str, str]) -> None:
        return None  # the world's NetSuite connection bills every line as its default item

    def _query(self, query: str) -> list[dict[str, Any]]:
        with self._world.netsuite_client() as netsuite:
            return list(netsuite.suiteql(query))

    def ledger(self) -> ErpLedger:
        ledger = ErpLedger()
        for row in self._query("SELECT id, externalid FROM customer"):
            if row.get("externalid"):
                ledger.customers[row["externalid"]] = str(row["id"])
        kinds = {"invoice": INVOICE, "creditmemo": CREDIT_MEMO, "salesorder": SALES_ORDER}
        kinds["customerpayment"] = PAYMENT
        for row in self._query(
            "SELECT id, externalid, recordtype, foreigntotal, foreignamountunpaid FROM transaction"
        ):
            kind = kinds.get(row["recordtype"])
            if kind is not None:
                document = ErpDocument(
                    Decimal(str(row.get("foreigntotal") or 0)),
                    Decimal(str(row.get("foreignamountunpaid") or 0)),
                )
                ledger.add(kind, row.get("externalid") or str(row["id"]), document)
        return ledger


class BusinessCentralErp(InjectedFaults):
    """Business Central's API v2.0 with an Entra ID client-credentials token, over TLS."""

    vendor = "business_central"

    def __init__(
        self,
        world: BillingWorld,
        tls: tuple[str, str],
        faults: FaultPlan | None = None,
        timeout: float = 2.0,
    ) -> None:
        self._world = world
        self._certfile = str(tls[0])
        self._client_id, self._secret = secrets.token_hex(16), secrets.token_urlsafe(24)
        self.faults = FaultInjector(faults or FaultPlan())
        app = create_business_central(
            tenant=BC_TENANT,
            client_id=self._client_id,
            client_secret=self._secret,
            faults=self.faults,
            rate_limit=100_000,
        )
        self.server = ServerThread(app, certfile=str(tls[0]), keyfile=str(tls[1])).start()
        self.url = self.server.url
        self._timeout = timeout
        folder = world.workdir / "secrets"
        for name, value in (
            ("bc_client_id", self._client_id),
            ("bc_client_secret", self._secret),
            ("bc_webhook_secret", secrets.token_hex(16)),
        ):
            (folder / name).write_text(value)
            (folder / name).chmod(0o600)
        world.closers.append(self.server.stop)
        # The company's own customers (seeded) are not the story's.
        self._seeded = {customer["number"] for customer in self.rows("customers")}

    def key(self, global_id: str, kind: Kind) -> str:
        # customer No. is Code[20]; externalDocumentNumber is Code[35] (connector's mapping).
        return business_central_code(global_id, 20 if kind == "customer" else 35)

    def configure(self, items: dict[str, str]) -> None:
        self._world.settings_args["erp_section"] = BC_CONNECTION.format(
            url=self.url,
            timeout=self._timeout,
            tenant=BC_TENANT,
            company=COMPANY_ID,
            ca_file=self._certfile,
            items=json.dumps(items),
        )

    def _http(self) -> httpx.Client:
        # https://learn.microsoft.com/entra/identity-platform/v2-oauth2-client-creds-grant-flow
        with httpx.Client(
            verify=ssl.create_default_context(cafile=self._certfile), timeout=30, trust_env=False
        ) as login:
            token = login.post(
                f"{self.url}/{BC_TENANT}/oauth2/v2.0/token",
                data={
                    "grant_type": "client_credentials",
                    "client_id": self._client_id,
                    "client_secret": self._secret,
                    "scope": BC_SCOPE,
                },
            )
            token.raise_for_status()
        return httpx.Client(
            base_url=f"{self.url}/v2.0/{BC_TENANT}/production/api/v2.0/companies({COMPANY_ID})",
            headers={"Authorization": f"Bearer {token.json()['access_token']}"},
            verify=ssl.create_default_context(cafile=self._certfile),
            timeout=30,
            trust_env=False,
        )

    def rows(self, entity_set: str) -> Iterator[dict[str, Any]]:
        """Every record of ``entity_set``, following ``@odata.nextLink``."""
        with self._http() as api:
            url: str | None = f"/{entity_set}"
            while url:
                page = api.get(url)
                page.raise_for_status()
                body = page.json()
                yield from body["value"]
                url = body.get("@odata.nextLink")

    def ledger(self) -> ErpLedger:
        ledger = ErpLedger()
        for customer in self.rows("customers"):
            if customer["number"] not in self._seeded:
                ledger.customers[str(customer["number"])] = str(customer["id"])
        # Payments are journal lines applied to their invoice; posting them is finance's step,
        # so what stays open on an invoice is its remaining amount less the lines applied.
        applied: dict[str, Decimal] = {}
        for payment in self.rows("customerPayments"):
            amount = Decimal(str(payment.get("amount") or 0))
            target = str(payment.get("appliesToInvoiceId") or "")
            applied[target] = applied.get(target, Decimal(0)) + amount
            ledger.add(PAYMENT, _external(payment), ErpDocument(amount))
        for invoice in self.rows("salesInvoices"):
            remaining = Decimal(str(invoice.get("remainingAmount") or 0))
            unpaid = max(Decimal(0), remaining - applied.get(str(invoice["id"]), Decimal(0)))
            total = Decimal(str(invoice.get("totalAmountIncludingTax") or 0))
            ledger.add(INVOICE, _external(invoice), ErpDocument(total, unpaid))
        for memo in self.rows("salesCreditMemos"):
            total = Decimal(str(memo.get("totalAmountIncludingTax") or 0))
            ledger.add(CREDIT_MEMO, _external(memo), ErpDocument(total))
        for order in self.rows("salesOrders"):
            total = Decimal(str(order.get("totalAmountIncludingTax") or 0))
            ledger.add(SALES_ORDER, _external(order), ErpDocument(total))
        return ledger


def _external(record: dict[str, Any]) -> str:
    return str(record.get("externalDocumentNumber") or record["id"])


def start_erp_side(
    world: BillingWorld,
    vendor: str,
    *,
    tls: tuple[str, str],
    faults: FaultPlan | None = None,
) -> ErpSide:
    """The adapter for ``vendor`` (``netsuite`` or ``business_central``) on ``world``; the
    world's NetSuite emulator keeps ``faults`` when it is the ERP."""
    if vendor == "business_central":
        return BusinessCentralErp(world, tls, faults)
    if vendor == "netsuite":
        return NetSuiteErp(world)
    raise ValueError(f"no demo ERP adapter for {vendor!r}")
