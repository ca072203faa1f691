"""The reference data a fresh sandbox account starts with.

Subsidiary 1 ("Parent Company"), currency 1 ("USA"), customer 110 ("Anonymous Customer") and
item 98 come from Oracle's SuiteTalk REST tutorials (netsuite-devo-suitetalk-rest-tutorial-
examples.json), customer 107 from Oracle's error-handling and paging samples, so those request
bodies run unchanged against the sandbox. Item 98 costs 39.95 because the tutorial's sales
order for one of it totals 39.95.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

SEED_DATE = "2026-01-01"

CURRENCIES = [
    {"id": "1", "name": "USA", "symbol": "USD", "exchangeRate": Decimal("1.0")},
    {"id": "2", "name": "British pound", "symbol": "GBP", "exchangeRate": Decimal("1.27")},
    {"id": "3", "name": "Euro", "symbol": "EUR", "exchangeRate": Decimal("1.08")},
]

SUBSIDIARIES = [
    {"id": "1", "name": "Parent Company", "country": "US", "currency": "1"},
    {"id": "2", "name": "Syncwright UK Ltd", "country": "GB", "currency": "2"},
    {"id": "3", "name": "Syncwright GmbH", "country": "DE", "currency": "3"},
]

TERMS = [
    {"id": "1", "name": "Due on receipt", "daysUntilNetDue": Decimal(0)},
    {"id": "2", "name": "Net 15", "daysUntilNetDue": Decimal(15)},
    {"id": "3", "name": "Net 30", "daysUntilNetDue": Decimal(30)},
    {"id": "4", "name": "Net 60", "daysUntilNetDue": Decimal(60)},
]

# Financial dimensions (classifications) a customer can be booked under.
DEPARTMENTS = [{"id": "1", "name": "Sales"}, {"id": "2", "name": "Professional Services"}]
CLASSES = [{"id": "1", "name": "Enterprise"}, {"id": "2", "name": "Mid-Market"}]
LOCATIONS = [{"id": "1", "name": "San Francisco"}, {"id": "2", "name": "Berlin"}]

# Tax codes (``salesTaxItem``): a line's ``taxCode`` and a customer's ``taxItem`` must be one of
# these, and a code with a country must match the transaction subsidiary's country.
TAX_CODES = [
    {"id": "-7", "itemId": "-Not Taxable-", "rate": Decimal(0), "country": None},
    {"id": "5", "itemId": "VAT_UK:S-GB", "rate": Decimal(20), "country": "GB"},
    {"id": "6", "itemId": "VAT_UK:Z-GB", "rate": Decimal(0), "country": "GB"},
    {"id": "7", "itemId": "VAT_DE:S-DE", "rate": Decimal(19), "country": "DE"},
    {"id": "8", "itemId": "US-CA Sales Tax", "rate": Decimal("7.25"), "country": "US"},
]

SERVICE_ITEMS = [
    {
        "id": "98",
        "itemId": "SUB-STD",
        "displayName": "Standard subscription (monthly)",
        "basePrice": Decimal("39.95"),
    },
    {
        "id": "100",
        "itemId": "SUB-PRO",
        "displayName": "Pro subscription (monthly)",
        "basePrice": Decimal("99.00"),
    },
    {
        "id": "102",
        "itemId": "SEAT",
        "displayName": "Additional seat (monthly)",
        "basePrice": Decimal("12.50"),
    },
    {
        "id": "103",
        "itemId": "SUPPORT-PREMIUM",
        "displayName": "Premium support (annual)",
        "basePrice": Decimal("1200.00"),
    },
]

NON_INVENTORY_ITEMS = [
    {
        "id": "101",
        "itemId": "ONBOARDING",
        "displayName": "Onboarding package",
        "basePrice": Decimal("500.00"),
    },
    {
        "id": "104",
        "itemId": "HARDWARE-KIT",
        "displayName": "Hardware starter kit",
        "basePrice": Decimal("249.00"),
    },
]

CUSTOMERS = [
    # 107 is the customer of Oracle's error-handling and paging samples.
    {
        "id": "107",
        "entityId": "Oracle Sample Customer",
        "companyName": "Oracle Sample Customer",
        "isPerson": False,
        "subsidiary": "1",
        "currency": "1",
    },
    {
        "id": "110",
        "entityId": "Anonymous Customer",
        "companyName": "Anonymous Customer",
        "isPerson": False,
        "subsidiary": "1",
        "currency": "1",
        "terms": "3",
    },
]

FIRST_NEW_ID = 1000


def seed_records() -> dict[str, list[dict[str, Any]]]:
    def stamp(rows: list[dict[str, Any]], **extra: Any) -> list[dict[str, Any]]:
        return [
            {**row, **extra, "dateCreated": SEED_DATE, "lastModifiedDate": SEED_DATE}
            for row in rows
        ]

    return {
        "currency": stamp(CURRENCIES, isInactive=False),
        "subsidiary": stamp(SUBSIDIARIES, isInactive=False),
        "term": stamp(TERMS, isInactive=False),
        "department": stamp(DEPARTMENTS, isInactive=False),
        "classification": stamp(CLASSES, isInactive=False),
        "location": stamp(LOCATIONS, isInactive=False),
        "salesTaxItem": stamp(TAX_CODES, isInactive=False),
        "serviceSaleItem": stamp(SERVICE_ITEMS, isInactive=False, itemType="Service"),
        "nonInventorySaleItem": stamp(
            NON_INVENTORY_ITEMS, isInactive=False, itemType="NonInvtPart"
        ),
        "customer": stamp(CUSTOMERS, isInactive=False, balance=Decimal("0.00")),
    }
