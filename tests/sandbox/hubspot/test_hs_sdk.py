"""hubspot-api-client drives the emulator through every resource and operation the connector
uses: companies, contacts, deals (pipeline stages), products, line items, v4 associations,
properties, search and batch endpoints."""

from __future__ import annotations

import pytest
from hubspot import HubSpot
from hubspot.crm.associations.v4 import AssociationSpec
from hubspot.crm.companies import (
    BatchInputSimplePublicObjectBatchInput,
    BatchInputSimplePublicObjectBatchInputForCreate,
    BatchReadInputSimplePublicObjectId,
    PublicObjectSearchRequest,
    SimplePublicObjectBatchInput,
    SimplePublicObjectBatchInputForCreate,
    SimplePublicObjectId,
    SimplePublicObjectInput,
    SimplePublicObjectInputForCreate,
)
from hubspot.crm.companies.exceptions import ApiException as CompanyApiException
from hubspot.crm.deals import SimplePublicObjectInput as DealUpdate
from hubspot.crm.deals import SimplePublicObjectInputForCreate as DealCreate
from hubspot.crm.line_items import SimplePublicObjectInputForCreate as LineCreate
from hubspot.crm.properties import PropertyCreate

from tests.sandbox.hubspot.conftest import HubSpotEnv

DEAL_TO_COMPANY = 341
LINE_TO_DEAL = 20


def _company(sdk: HubSpot, **props: str) -> str:
    created = sdk.crm.companies.basic_api.create(
        SimplePublicObjectInputForCreate(properties={"name": "Acme GmbH", **props})
    )
    return str(created.id)


def test_company_lifecycle_with_custom_properties(sdk: HubSpot) -> None:
    company = _company(sdk, domain="acme.example", country="DE", city="Berlin")
    got = sdk.crm.companies.basic_api.get_by_id(company, properties=["name", "city", "nope"])
    assert got.properties["name"] == "Acme GmbH" and got.properties["city"] == "Berlin"
    assert "nope" not in got.properties  # unknown properties are left out of a read
    assert got.created_at is not None and got.archived is False

    # The billing properties syncwright writes exist in a fresh portal (custom, group syncwright).
    acv = sdk.crm.properties.core_api.get_by_name("companies", "syncwright_acv")
    assert acv.type == "number" and acv.hubspot_defined is False
    updated = sdk.crm.companies.basic_api.update(
        company,
        SimplePublicObjectInput(
            properties={"syncwright_acv": "14400.5", "syncwright_subscription_status": "Active"}
        ),
    )
    assert updated.properties["syncwright_acv"] == "14400.5"
    again = sdk.crm.companies.basic_api.get_by_id(company, properties=["syncwright_acv"])
    assert again.properties["syncwright_acv"] == "14400.5"
    assert again.updated_at >= got.updated_at

    sdk.crm.companies.basic_api.archive(company)
    with pytest.raises(CompanyApiException) as gone:
        sdk.crm.companies.basic_api.get_by_id(company)
    assert gone.value.status == 404 and '"OBJECT_NOT_FOUND"' in gone.value.body


def test_a_property_an_admin_creates_is_writable(sdk: HubSpot) -> None:
    sdk.crm.properties.core_api.create(
        "companies",
        PropertyCreate(
            name="region_code",
            label="Region",
            type="string",
            field_type="text",
            group_name="companyinformation",
        ),
    )
    names = {p.name for p in sdk.crm.properties.core_api.get_all("companies").results}
    assert {"region_code", "syncwright_erp_id", "name"} <= names
    company = _company(sdk, region_code="EMEA")
    got = sdk.crm.companies.basic_api.get_by_id(company, properties=["region_code"])
    assert got.properties["region_code"] == "EMEA"


def test_deal_with_stage_line_items_and_associations(sdk: HubSpot) -> None:
    stages = sdk.crm.pipelines.pipelines_api.get_all("deals").results[0].stages
    won = next(s for s in stages if s.id == "closedwon")
    assert won.metadata["isClosed"] == "true" and won.metadata["probability"] == "1.0"

    company = _company(sdk)
    contact = sdk.crm.contacts.basic_api.create(
        SimplePublicObjectInputForCreate(properties={"email": "ada@acme.example"})
    ).id
    product = sdk.crm.products.basic_api.create(
        SimplePublicObjectInputForCreate(properties={"name": "Seats", "price": "25"})
    ).id
    deal = sdk.crm.deals.basic_api.create(
        DealCreate(
            properties={"dealname": "Acme annual", "dealstage": "contractsent", "amount": "3000"},
            associations=[
                {
                    "to": {"id": company},
                    "types": [{"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": 5}],
                }
            ],
        )
    ).id
    line = sdk.crm.line_items.basic_api.create(
        LineCreate(
            properties={"hs_product_id": product, "quantity": "12", "price": "25", "name": "Seats"}
        )
    ).id
    sdk.crm.associations.v4.basic_api.create_default("line_items", line, "deals", deal)
    sdk.crm.associations.v4.basic_api.create(
        "deals",
        deal,
        "contacts",
        contact,
        [AssociationSpec(association_category="HUBSPOT_DEFINED", association_type_id=3)],
    )

    companies = sdk.crm.associations.v4.basic_api.get_page("deals", deal, "companies").results
    assert [str(c.to_object_id) for c in companies] == [company]
    assert {t.type_id for t in companies[0].association_types} == {DEAL_TO_COMPANY, 5}
    lines = sdk.crm.associations.v4.basic_api.get_page("deals", deal, "line_items").results
    assert [str(r.to_object_id) for r in lines] == [line]
    back = sdk.crm.associations.v4.basic_api.get_page("companies", company, "deals").results
    assert [str(r.to_object_id) for r in back] == [deal]

    got = sdk.crm.line_items.basic_api.get_by_id(line)
    assert got.properties["amount"] == "300"  # HubSpot calculates quantity x price
    with_assoc = sdk.crm.deals.basic_api.get_by_id(deal, associations=["companies"])
    assert with_assoc.associations["companies"].results[0].id == company

    sdk.crm.deals.basic_api.update(deal, DealUpdate(properties={"dealstage": "closedwon"}))
    closed = sdk.crm.deals.basic_api.get_by_id(deal, properties=["dealstage", "hs_is_closed_won"])
    assert closed.properties["hs_is_closed_won"] == "true"


def test_search_filters_sorts_and_pages(sdk: HubSpot) -> None:
    ids = [_company(sdk, name=f"Co {n}", city="Berlin" if n % 2 else "Paris") for n in range(5)]
    request = PublicObjectSearchRequest(
        filter_groups=[
            {"filters": [{"propertyName": "city", "operator": "EQ", "value": "berlin"}]}
        ],
        sorts=[{"propertyName": "name", "direction": "DESCENDING"}],
        properties=["name", "city"],
        limit=1,
    )
    first = sdk.crm.companies.search_api.do_search(request)
    assert first.total == 2 and first.results[0].properties["name"] == "Co 3"
    request.after = first.paging.next.after
    second = sdk.crm.companies.search_api.do_search(request)
    assert second.results[0].properties["name"] == "Co 1" and second.paging is None
    either = sdk.crm.companies.search_api.do_search(
        PublicObjectSearchRequest(
            filter_groups=[
                {"filters": [{"propertyName": "hs_object_id", "operator": "EQ", "value": ids[0]}]},
                {
                    "filters": [
                        {"propertyName": "hs_object_id", "operator": "IN", "values": ids[3:]}
                    ]
                },
            ],
            limit=10,
        )
    )
    assert sorted(r.id for r in either.results) == sorted([ids[0], *ids[3:]])


def test_batch_create_read_update(sdk: HubSpot, hubspot: HubSpotEnv) -> None:
    created = sdk.crm.companies.batch_api.create(
        BatchInputSimplePublicObjectBatchInputForCreate(
            inputs=[
                SimplePublicObjectBatchInputForCreate(properties={"name": f"Batch {n}"})
                for n in range(3)
            ]
        )
    )
    ids = sorted(r.id for r in created.results)
    assert created.status == "COMPLETE" and len(ids) == 3
    sdk.crm.companies.batch_api.update(
        BatchInputSimplePublicObjectBatchInput(
            inputs=[
                SimplePublicObjectBatchInput(id=i, properties={"syncwright_erp_id": f"C-{i}"})
                for i in ids
            ]
        )
    )
    read = sdk.crm.companies.batch_api.read(
        BatchReadInputSimplePublicObjectId(
            inputs=[SimplePublicObjectId(id=i) for i in ids],
            properties=["syncwright_erp_id"],
            properties_with_history=[],
        )
    )
    assert sorted(r.properties["syncwright_erp_id"] for r in read.results) == [
        f"C-{i}" for i in ids
    ]
    assert hubspot.emulator.stats.by_route["POST /crm/v3/objects/{object_type}/batch/read"] == 1
