"""Seeding the HubSpot emulator through the official SDK, as a sales rep's tools would."""

from __future__ import annotations

from dataclasses import dataclass

from hubspot import HubSpot
from hubspot.crm.companies import SimplePublicObjectInputForCreate
from hubspot.crm.deals import SimplePublicObjectInput as DealUpdate

PRIMARY_COMPANY = {"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": 5}
PRIMARY_CONTACT_COMPANY = {"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": 1}
LINE_TO_DEAL = {"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": 20}


@dataclass
class SeededDeal:
    company: str
    deal: str
    lines: list[str]
    products: list[str]


def company(hs: HubSpot, name: str = "Acme Inc", **props: str) -> str:
    address = {
        "address": "1 Market St",
        "city": "San Francisco",
        "state": "CA",
        "zip": "94105",
        "country": "US",
    }
    created = hs.crm.companies.basic_api.create(
        SimplePublicObjectInputForCreate(properties={"name": name, **address, **props})
    )
    return str(created.id)


def won_deal(
    hs: HubSpot, *, seats: int = 10, stage: str = "closedwon", company_id: str | None = None
) -> SeededDeal:
    """A company, two products and a deal with two line items, moved to ``stage`` last."""
    owner = company_id or company(hs)
    products = [
        str(
            hs.crm.products.basic_api.create(
                SimplePublicObjectInputForCreate(properties={"name": name, "price": price})
            ).id
        )
        for name, price in (("Platform", "490"), ("Seats", "25"))
    ]
    deal = str(
        hs.crm.deals.basic_api.create(
            SimplePublicObjectInputForCreate(
                properties={
                    "dealname": "Acme annual",
                    "dealstage": "contractsent",
                    "closedate": "2026-11-30T00:00:00Z",
                },
                associations=[{"to": {"id": owner}, "types": [PRIMARY_COMPANY]}],
            )
        ).id
    )
    lines = [
        str(
            hs.crm.line_items.basic_api.create(
                SimplePublicObjectInputForCreate(
                    properties={
                        "hs_product_id": product,
                        "quantity": str(qty),
                        "price": price,
                        "name": name,
                    },
                    associations=[{"to": {"id": deal}, "types": [LINE_TO_DEAL]}],
                )
            ).id
        )
        for product, qty, price, name in (
            (products[0], 1, "490", "Platform"),
            (products[1], seats, "25", "Seats"),
        )
    ]
    hs.crm.deals.basic_api.update(deal, DealUpdate(properties={"dealstage": stage}))
    return SeededDeal(owner, deal, lines, products)
