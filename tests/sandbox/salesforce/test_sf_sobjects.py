"""sObject Rows, upsert by external id, describe, conditional requests (simple-salesforce)."""

from __future__ import annotations

import datetime as dt
from email.utils import format_datetime as http_date
from typing import TYPE_CHECKING, Any

import pytest
from simple_salesforce import Salesforce
from simple_salesforce.exceptions import (
    SalesforceMalformedRequest,
    SalesforceResourceNotFound,
)

from syncwright.sandbox.salesforce import normalize_id

if TYPE_CHECKING:
    from tests.sandbox.salesforce.conftest import SalesforceEnv


def _errors(exc: pytest.ExceptionInfo[Any]) -> list[dict[str, Any]]:
    content = exc.value.content
    assert isinstance(content, list), content
    return content


def test_create_get_update_delete_account(sf: Salesforce) -> None:
    created = sf.Account.create({"Name": "Acme", "BillingCity": "Lyon", "ERP_Id__c": "E-1"})
    assert created["success"] is True and created["errors"] == []
    account_id = created["id"]
    assert len(account_id) == 18 and account_id.startswith("001")
    assert normalize_id(account_id[:15]) == account_id  # the real 15 -> 18 checksum

    record = sf.Account.get(account_id)
    assert record["attributes"] == {
        "type": "Account",
        "url": f"/services/data/v59.0/sobjects/Account/{account_id}",
    }
    assert record["Id"] == account_id
    assert record["Name"] == "Acme" and record["ERP_Id__c"] == "E-1"
    assert record["BillingAddress"]["city"] == "Lyon"
    assert record["IsDeleted"] is False
    for system in ("CreatedDate", "LastModifiedDate", "SystemModstamp"):
        assert record[system].endswith(".000+0000")
    assert record["CreatedById"].startswith("005") and record["OwnerId"].startswith("005")

    assert sf.Account.update(account_id, {"Name": "Acme Corp", "ACV__c": 1200}) == 204
    updated = sf.Account.get(account_id)
    assert updated["Name"] == "Acme Corp" and updated["ACV__c"] == 1200.0

    assert sf.Account.delete(account_id) == 204
    with pytest.raises(SalesforceResourceNotFound) as exc:
        sf.Account.get(account_id)
    assert _errors(exc)[0]["errorCode"] == "ENTITY_IS_DELETED"


def test_sales_objects_and_their_key_prefixes(sf: Salesforce, env: SalesforceEnv) -> None:
    account = sf.Account.create({"Name": "Acme"})["id"]
    contact = sf.Contact.create({"FirstName": "Ada", "LastName": "Lovelace", "AccountId": account})
    product = sf.Product2.create({"Name": "Seat", "ProductCode": "SEAT", "IsActive": True})
    entry = sf.PricebookEntry.create(
        {
            "Pricebook2Id": env.state.standard_pricebook_id,
            "Product2Id": product["id"],
            "UnitPrice": 100,
            "IsActive": True,
        }
    )
    opp = sf.Opportunity.create(
        {"Name": "Acme renewal", "StageName": "Prospecting", "CloseDate": "2026-03-31"}
    )
    item = sf.OpportunityLineItem.create(
        {"OpportunityId": opp["id"], "PricebookEntryId": entry["id"], "Quantity": 3}
    )
    prefixes = {
        "001": account,
        "003": contact["id"],
        "01t": product["id"],
        "01u": entry["id"],
        "006": opp["id"],
        "00k": item["id"],
        "01s": env.state.standard_pricebook_id,
    }
    for prefix, record_id in prefixes.items():
        assert record_id.startswith(prefix)

    assert sf.Contact.get(contact["id"])["Name"] == "Ada Lovelace"
    line = sf.OpportunityLineItem.get(item["id"])
    assert line["UnitPrice"] == 100.0 and line["TotalPrice"] == 300.0
    assert line["Product2Id"] == product["id"] and line["ProductCode"] == "SEAT"
    opportunity = sf.Opportunity.get(opp["id"])
    assert opportunity["Amount"] == 300.0
    assert opportunity["HasOpportunityLineItem"] is True
    assert opportunity["Pricebook2Id"] == env.state.standard_pricebook_id
    assert opportunity["Probability"] == 10.0 and opportunity["IsClosed"] is False
    sf.Opportunity.update(opp["id"], {"StageName": "Closed Won"})
    won = sf.Opportunity.get(opp["id"])
    assert won["IsWon"] is True and won["Probability"] == 100.0
    assert won["ForecastCategory"] == "Closed"

    # Deleting the account takes its contacts and opportunities (and their line items) along.
    sf.Account.delete(account)
    with pytest.raises(SalesforceResourceNotFound):
        sf.Contact.get(contact["id"])


def test_custom_price_book_needs_a_standard_price(sf: Salesforce) -> None:
    product = sf.Product2.create({"Name": "Seat", "IsActive": True})["id"]
    book = sf.Pricebook2.create({"Name": "Partners", "IsActive": True})["id"]
    with pytest.raises(SalesforceMalformedRequest) as exc:
        sf.PricebookEntry.create({"Pricebook2Id": book, "Product2Id": product, "UnitPrice": 9})
    assert _errors(exc)[0]["errorCode"] == "STANDARD_PRICE_NOT_DEFINED"


def test_upsert_by_erp_id(sf: Salesforce) -> None:
    assert sf.Account.upsert("ERP_Id__c/ERP-100", {"Name": "Globex"}) == 201
    # v46.0+ answers an update with 200 and a body saying created: false.
    response = sf.Account.upsert("ERP_Id__c/ERP-100", {"Name": "Globex Inc"}, raw_response=True)
    assert response.status_code == 200
    assert response.json()["created"] is False
    assert sf.Account.get_by_custom_id("ERP_Id__c", "ERP-100")["Name"] == "Globex Inc"
    # External ids match case-insensitively unless the field is case-sensitive.
    assert sf.Account.upsert("ERP_Id__c/erp-100", {"Type": "Customer"}) == 200
    assert sf.query("SELECT COUNT() FROM Account")["totalSize"] == 1


def test_upsert_before_api_46_answers_204(env: SalesforceEnv) -> None:
    old = env.sf(version="45.0")
    assert old.Account.upsert("ERP_Id__c/ERP-1", {"Name": "Old"}) == 201
    assert old.Account.upsert("ERP_Id__c/ERP-1", {"Name": "Older"}) == 204


def test_upsert_on_a_field_that_is_not_an_external_id(sf: Salesforce) -> None:
    with pytest.raises(SalesforceResourceNotFound) as exc:
        sf.Account.upsert("Name/Acme", {"Type": "Customer"})
    assert _errors(exc)[0] == {
        "message": "Provided external ID field does not exist or is not accessible: Name",
        "errorCode": "NOT_FOUND",
    }


@pytest.mark.parametrize(
    ("body", "code", "fields"),
    [
        ({"Name": "x", "Colour": "red"}, "INVALID_FIELD", None),
        ({"Name": "x", "Undeclared__c": "y"}, "INVALID_FIELD", None),
        ({"Type": "Customer"}, "REQUIRED_FIELD_MISSING", ["Name"]),
        ({"Name": "x" * 256}, "STRING_TOO_LONG", ["Name"]),
        ({"Name": "x", "IsDeleted": True}, "INVALID_FIELD_FOR_INSERT_UPDATE", ["IsDeleted"]),
        ({"Name": "x", "ParentId": "not-an-id"}, "MALFORMED_ID", ["ParentId"]),
        ({"Name": "x", "ParentId": "003000000000001"}, "FIELD_INTEGRITY_EXCEPTION", ["ParentId"]),
        ({"Name": "x", "NumberOfEmployees": "many"}, "JSON_PARSER_ERROR", None),
    ],
)
def test_create_errors_are_salesforce_error_arrays(
    sf: Salesforce, body: dict[str, Any], code: str, fields: list[str] | None
) -> None:
    with pytest.raises(SalesforceMalformedRequest) as exc:
        sf.Account.create(body)
    errors = _errors(exc)
    assert len(errors) == 1
    assert errors[0]["errorCode"] == code
    assert errors[0]["message"]
    if fields is not None:
        assert errors[0]["fields"] == fields


def test_unknown_field_message(sf: Salesforce) -> None:
    with pytest.raises(SalesforceMalformedRequest) as exc:
        sf.Account.create({"Name": "x", "Colour": "red"})
    assert _errors(exc) == [
        {
            "message": "No such column 'Colour' on sobject of type Account",
            "errorCode": "INVALID_FIELD",
        }
    ]


def test_unique_external_id_rejects_duplicates(sf: Salesforce) -> None:
    first = sf.Account.create({"Name": "A", "ERP_Id__c": "DUP"})["id"]
    with pytest.raises(SalesforceMalformedRequest) as exc:
        sf.Account.create({"Name": "B", "ERP_Id__c": "dup"})
    error = _errors(exc)[0]
    assert error["errorCode"] == "DUPLICATE_VALUE"
    assert first in error["message"]


def test_missing_and_malformed_ids(sf: Salesforce) -> None:
    with pytest.raises(SalesforceResourceNotFound) as exc:
        sf.Account.get("001000000000000AAA")
    assert _errors(exc)[0]["errorCode"] == "NOT_FOUND"
    with pytest.raises(SalesforceMalformedRequest) as exc2:
        sf.Account.update("003000000000001AAA", {"Name": "x"})
    assert _errors(exc2)[0]["errorCode"] == "MALFORMED_ID"


def test_lookup_to_a_missing_record(sf: Salesforce) -> None:
    ghost = sf.Account.create({"Name": "Ghost"})["id"]
    sf.Account.delete(ghost)
    with pytest.raises(SalesforceMalformedRequest) as exc:
        sf.Contact.create({"LastName": "x", "AccountId": ghost})
    assert _errors(exc)[0]["errorCode"] == "ENTITY_IS_DELETED"


def test_get_with_fields_parameter(sf: Salesforce, env: SalesforceEnv) -> None:
    account_id = sf.Account.create({"Name": "Acme", "Phone": "123"})["id"]
    response = env.session().get(
        env.api(f"/sobjects/Account/{account_id}"),
        params={"fields": "name,Phone"},
        headers=env.headers(),
    )
    assert response.json() == {
        "attributes": {
            "type": "Account",
            "url": f"/services/data/v59.0/sobjects/Account/{account_id}",
        },
        "Name": "Acme",
        "Phone": "123",
    }


def test_if_unmodified_since_guards_an_update(sf: Salesforce, env: SalesforceEnv) -> None:
    env.clock.set(dt.datetime(2026, 1, 10, 12, 0, tzinfo=dt.UTC))
    account_id = sf.Account.create({"Name": "Acme"})["id"]
    env.clock.advance(60)
    sf.Account.update(account_id, {"Name": "Changed elsewhere"})
    stale = http_date(dt.datetime(2026, 1, 10, 12, 0, 30, tzinfo=dt.UTC), usegmt=True)
    response = env.session().patch(
        env.api(f"/sobjects/Account/{account_id}"),
        json={"Name": "Mine"},
        headers=env.headers(**{"If-Unmodified-Since": stale}),
    )
    assert response.status_code == 412
    assert sf.Account.get(account_id)["Name"] == "Changed elsewhere"
    fresh = http_date(dt.datetime(2026, 1, 10, 12, 5, tzinfo=dt.UTC), usegmt=True)
    assert (
        sf.Account.update(account_id, {"Name": "Mine"}, headers={"If-Unmodified-Since": fresh})
        == 204
    )
    # If-Modified-Since on GET: 304 when nothing changed since.
    response = env.session().get(
        env.api(f"/sobjects/Account/{account_id}"),
        headers=env.headers(**{"If-Modified-Since": fresh}),
    )
    assert response.status_code == 304


def test_updated_and_deleted_resources(sf: Salesforce, env: SalesforceEnv) -> None:
    start = dt.datetime(2026, 2, 1, tzinfo=dt.UTC)
    env.clock.set(start + dt.timedelta(minutes=1))
    kept = sf.Account.create({"Name": "Kept"})["id"]
    gone = sf.Account.create({"Name": "Gone"})["id"]
    env.clock.advance(60)
    sf.Account.delete(gone)
    env.clock.advance(60)
    end = start + dt.timedelta(hours=1)
    updated = sf.Account.updated(start, end)
    assert updated["ids"] == [kept]
    deleted = sf.Account.deleted(start, end)
    assert [d["id"] for d in deleted["deletedRecords"]] == [gone]


def test_describe_comes_from_the_object_reference(sf: Salesforce) -> None:
    describe = sf.Account.describe()
    assert describe["name"] == "Account" and describe["keyPrefix"] == "001"
    fields = {f["name"]: f for f in describe["fields"]}
    assert fields["Name"]["type"] == "string" and fields["Name"]["nillable"] is False
    assert fields["Id"]["type"] == "id"
    assert fields["ERP_Id__c"]["externalId"] is True and fields["ERP_Id__c"]["custom"] is True
    assert fields["ERP_Id__c"]["unique"] is True
    assert fields["Industry"]["type"] == "picklist" and fields["Industry"]["picklistValues"]
    names = {o["name"] for o in sf.describe()["sobjects"]}
    assert names >= {
        "Account",
        "Contact",
        "Opportunity",
        "OpportunityLineItem",
        "Product2",
        "Pricebook2",
        "PricebookEntry",
    }


def test_declared_custom_field_becomes_writable(env: SalesforceEnv) -> None:
    from syncwright.sandbox.salesforce import CustomField, SalesforceState

    state = SalesforceState(custom_fields=())
    with pytest.raises(Exception, match="INVALID_FIELD"):
        state.insert("Account", {"Name": "x", "ERP_Id__c": "1"})
    state.declare_field(CustomField("Account", "ERP_Id__c", external_id=True, unique=True))
    record_id = state.insert("Account", {"Name": "x", "ERP_Id__c": "1"})
    assert state.record("Account", record_id)["ERP_Id__c"] == "1"  # type: ignore[index]
    with pytest.raises(ValueError, match="__c"):
        CustomField("Account", "NoSuffix")
