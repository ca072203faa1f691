"""The demo company every emulator starts with: CRONUS-like master data the connector needs
(items, tax areas with their rates, currencies, a customer payment journal) and one customer,
Microsoft's own example (``dynamics_customer_get.md``: Adatum Corporation, number 10000)."""

from __future__ import annotations

from decimal import Decimal

from syncwright.sandbox.business_central._state import BcState

__all__ = ["COMPANY_ID", "COMPANY_NAME", "seed"]

COMPANY_ID = "f64eba74-dacd-4854-a584-1834f68cfc3a"  # the id in Microsoft's subscription example
COMPANY_NAME = "CRONUS UK Ltd."
LOCAL_CURRENCY = "GBP"


def seed(state: BcState) -> str:
    cid = state.add_company(COMPANY_NAME, local_currency=LOCAL_CURRENCY, company_id=COMPANY_ID)
    for code, name in (("GBP", "Pound Sterling"), ("EUR", "Euro"), ("USD", "US Dollar")):
        state.seed(cid, "currencies", {"code": code, "displayName": name})
    for code, name, rate in (("UK-STD", "UK VAT 20%", "20"), ("UK-ZERO", "UK zero rated", "0")):
        area = state.seed(cid, "taxAreas", {"code": code, "displayName": name, "taxType": "VAT"})
        state.set_tax_rate(cid, area["id"], Decimal(rate))
    for number, name, price in (
        ("SW-STD", "Standard plan", 12.34),
        ("SW-PRO", "Pro plan", 50),
        ("SW-SEAT", "Additional seat", 10),
        ("SW-DISC", "Discount", 0),
    ):
        state.seed(
            cid,
            "items",
            {
                "number": number,
                "displayName": name,
                "type": "Service",
                "blocked": False,
                "unitPrice": price,
                "taxGroupCode": "STANDARD",
            },
        )
    state.seed(
        cid,
        "items",
        {
            "number": "SW-OLD",
            "displayName": "Retired plan",
            "type": "Service",
            "blocked": True,
            "unitPrice": 5,
            "taxGroupCode": "STANDARD",
        },
    )
    for code, name, due in (("NET30", "Net 30 days", "30D"), ("NET60", "Net 60 days", "60D")):
        state.seed(
            cid, "paymentTerms", {"code": code, "displayName": name, "dueDateCalculation": due}
        )
    state.seed(cid, "customerPaymentJournals", {"code": "CASHRCPT", "displayName": "Cash receipts"})
    state.seed(
        cid,
        "customers",
        {
            "number": "10000",
            "displayName": "Adatum Corporation",
            "type": "Company",
            "addressLine1": "192 Market Square",
            "addressLine2": "",
            "city": "Atlanta",
            "state": "GA",
            "country": "US",
            "postalCode": "31772",
            "phoneNumber": "",
            "email": "robert.townes@contoso.com",
            "website": "",
            "balanceDue": 0,
            "creditLimit": 0,
            "taxLiable": False,
            "taxAreaId": "00000000-0000-0000-0000-000000000000",
            "taxAreaDisplayName": "",
            "taxRegistrationNumber": "",
            "currencyCode": "USD",
            "paymentTermsId": "00000000-0000-0000-0000-000000000000",
            "blocked": " ",
        },
    )
    return cid
