"""The CRM side of the quote-to-cash story, per CRM: what a sales rep does and what the story
reads back, through the CRM emulator's own REST API (never syncwright's tables or connector).

:class:`SalesforceDrive` speaks Salesforce's sObject API, :class:`HubSpotDrive` HubSpot's CRM v3
objects API; the story (``quote_to_cash.py``) only calls the :class:`CrmDrive` methods.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Protocol

import httpx

if TYPE_CHECKING:
    from syncwright.demo.quote_to_cash import SalesRep

# HubSpot's built-in association types: deal -> its primary company, line item -> its deal.
# https://developers.hubspot.com/docs/api/crm/associations#association-type-id-values
DEAL_TO_PRIMARY_COMPANY = {"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": 5}
LINE_TO_DEAL = {"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": 20}


@dataclass(frozen=True)
class AccountBilling:
    """The billing facts syncwright writes back onto a CRM account, as the CRM shows them."""

    subscription_status: str | None
    acv: Decimal
    erp_id: str
    last_invoice_number: str
    last_invoice_status: str

    @classmethod
    def read(cls, record: dict[str, Any], names: tuple[str, str, str, str, str]) -> AccountBilling:
        """From a CRM record whose fields ``names`` hold status, ACV, ERP id, last invoice
        number and status (in that order)."""
        status, acv, erp_id, number, invoice_status = (record.get(name) for name in names)
        return cls(
            subscription_status=status,
            acv=Decimal(str(acv or 0)),
            erp_id=str(erp_id or ""),
            last_invoice_number=str(number or ""),
            last_invoice_status=str(invoice_status or ""),
        )


SALESFORCE_BILLING = (
    "Subscription_Status__c",
    "ACV__c",
    "ERP_Id__c",
    "Last_Invoice_Number__c",
    "Last_Invoice_Status__c",
)
HUBSPOT_BILLING = (
    "syncwright_subscription_status",
    "syncwright_acv",
    "syncwright_erp_id",
    "syncwright_last_invoice_number",
    "syncwright_last_invoice_status",
)


@dataclass(frozen=True)
class DealLine:
    product: str
    entry: str  # what a line item references: Salesforce's price book entry, HubSpot's product
    name: str
    quantity: int
    cents: int


class CrmDrive(Protocol):
    vendor: str

    def add_product(self, name: str, cents: int) -> tuple[str, str]:
        """Create a sellable product; returns (product id, the id a deal line references)."""
        ...

    def open_deal(self, n: int, country: str, lines: list[DealLine]) -> tuple[str, str]:
        """An account billed in ``country`` and an open deal with ``lines``: (deal, account)."""
        ...

    def win(self, deal: str) -> None: ...

    def set_country(self, account: str, country: str) -> None: ...

    def billing_of(self, account: str) -> AccountBilling: ...


class SalesforceDrive:
    vendor = "salesforce"

    def __init__(self, rep: Callable[[], SalesRep], pricebook_id: str) -> None:
        self._rep = rep
        self._pricebook = pricebook_id

    def add_product(self, name: str, cents: int) -> tuple[str, str]:
        sf = self._rep()
        product = sf.create("Product2", {"Name": name, "IsActive": True})
        entry = sf.create(
            "PricebookEntry",
            {
                "Pricebook2Id": self._pricebook,
                "Product2Id": product,
                "UnitPrice": cents / 100,
                "IsActive": True,
            },
        )
        return product, entry

    def open_deal(self, n: int, country: str, lines: list[DealLine]) -> tuple[str, str]:
        sf = self._rep()
        account = sf.create(
            "Account",
            {
                "Name": f"Prospect {n:04d} Corp",
                "BillingStreet": f"{n} Market St",
                "BillingCity": "San Francisco",
                "BillingState": "CA",
                "BillingPostalCode": "94105",
                "BillingCountry": country,
            },
        )
        opportunity = sf.create(
            "Opportunity",
            {
                "Name": f"Prospect {n:04d} - annual",
                "AccountId": account,
                "StageName": "Negotiation/Review",
                "CloseDate": "2026-11-30",
            },
        )
        for line in lines:
            sf.create(
                "OpportunityLineItem",
                {
                    "OpportunityId": opportunity,
                    "PricebookEntryId": line.entry,
                    "Quantity": line.quantity,
                    "UnitPrice": line.cents / 100,
                },
            )
        return opportunity, account

    def win(self, deal: str) -> None:
        self._rep().update("Opportunity", deal, {"StageName": "Closed Won"})

    def set_country(self, account: str, country: str) -> None:
        self._rep().update("Account", account, {"BillingCountry": country})

    def billing_of(self, account: str) -> AccountBilling:
        return AccountBilling.read(self._rep().get("Account", account), SALESFORCE_BILLING)


class HubSpotDrive:
    """HubSpot's CRM objects API with a private app's token, as a rep's tools call it."""

    vendor = "hubspot"

    def __init__(self, url: str, token: str) -> None:
        self._url = url
        self._token = token

    def _send(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        with httpx.Client(
            base_url=f"{self._url}/crm/v3/objects",
            headers={"Authorization": f"Bearer {self._token}"},
            timeout=30,
            trust_env=False,
        ) as http:
            response = http.request(method, path, json=body)
            response.raise_for_status()
            return response.json()

    def _create(
        self, kind: str, properties: dict[str, str], to: str = "", types: Any = None
    ) -> str:
        body: dict[str, Any] = {"properties": properties}
        if to:
            body["associations"] = [{"to": {"id": to}, "types": [types]}]
        return str(self._send("POST", f"/{kind}", body)["id"])

    def add_product(self, name: str, cents: int) -> tuple[str, str]:
        product = self._create("products", {"name": name, "price": str(Decimal(cents) / 100)})
        return product, product

    def open_deal(self, n: int, country: str, lines: list[DealLine]) -> tuple[str, str]:
        company = self._create(
            "companies",
            {
                "name": f"Prospect {n:04d} Corp",
                "address": f"{n} Market St",
                "city": "San Francisco",
                "state": "CA",
                "zip": "94105",
                "country": country,
            },
        )
        deal = self._create(
            "deals",
            {
                "dealname": f"Prospect {n:04d} - annual",
                "dealstage": "contractsent",
                "closedate": "2026-11-30T00:00:00Z",
            },
            company,
            DEAL_TO_PRIMARY_COMPANY,
        )
        for line in lines:
            self._create(
                "line_items",
                {
                    "hs_product_id": line.entry,
                    "quantity": str(line.quantity),
                    "price": str(Decimal(line.cents) / 100),
                    "name": line.name,
                },
                deal,
                LINE_TO_DEAL,
            )
        return deal, company

    def win(self, deal: str) -> None:
        self._send("PATCH", f"/deals/{deal}", {"properties": {"dealstage": "closedwon"}})

    def set_country(self, account: str, country: str) -> None:
        self._send("PATCH", f"/companies/{account}", {"properties": {"country": country}})

    def billing_of(self, account: str) -> AccountBilling:
        wanted = ",".join(HUBSPOT_BILLING)
        company = self._send("GET", f"/companies/{account}?properties={wanted}")
        return AccountBilling.read(company["properties"], HUBSPOT_BILLING)
