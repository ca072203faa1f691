"""/composite (references, allOrNone) and sObject Collections."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest
from simple_salesforce import Salesforce
from simple_salesforce.exceptions import SalesforceMalformedRequest

if TYPE_CHECKING:
    from tests.sandbox.salesforce.conftest import SalesforceEnv

V = "/services/data/v59.0"


def _composite(sf: Salesforce, requests: list[dict[str, Any]], all_or_none: bool) -> list[Any]:
    body = {"allOrNone": all_or_none, "compositeRequest": requests}
    result = sf.restful("composite", method="POST", json=body)
    responses: list[Any] = result["compositeResponse"]
    return responses


def test_composite_with_references(sf: Salesforce, env: SalesforceEnv) -> None:
    before = env.state.api_used
    results = _composite(
        sf,
        [
            {
                "method": "POST",
                "url": f"{V}/sobjects/Account",
                "referenceId": "newAccount",
                "body": {"Name": "Composite Co", "ERP_Id__c": "C-1"},
            },
            {
                "method": "POST",
                "url": f"{V}/sobjects/Contact",
                "referenceId": "newContact",
                "body": {"LastName": "Ref", "AccountId": "@{newAccount.id}"},
            },
            {
                "method": "GET",
                "url": f"{V}/sobjects/Account/@{{newAccount.id}}?fields=Name,ERP_Id__c",
                "referenceId": "readBack",
            },
            {
                "method": "GET",
                "url": f"{V}/query?q=SELECT+Id+FROM+Contact+WHERE+AccountId='@{{newAccount.id}}'",
                "referenceId": "contacts",
            },
            {
                "method": "PATCH",
                "url": f"{V}/sobjects/Contact/@{{contacts.records[0].Id}}",
                "referenceId": "touch",
                "body": {"Title": "CFO"},
            },
        ],
        all_or_none=True,
    )
    assert [r["httpStatusCode"] for r in results] == [201, 201, 200, 200, 204]
    # One composite request counts as one API call.
    assert env.state.api_used - before == 1
    account_id = results[0]["body"]["id"]
    assert results[0]["httpHeaders"]["Location"] == f"{V}/sobjects/Account/{account_id}"
    assert results[2]["body"]["Name"] == "Composite Co"
    contact = sf.Contact.get(results[1]["body"]["id"])
    assert contact["AccountId"] == account_id and contact["Title"] == "CFO"


def test_composite_all_or_none_rolls_everything_back(sf: Salesforce, env: SalesforceEnv) -> None:
    events_before = env.state.events.latest_replay_id
    results = _composite(
        sf,
        [
            {
                "method": "POST",
                "url": f"{V}/sobjects/Account",
                "referenceId": "ok",
                "body": {"Name": "Rolled back"},
            },
            {
                "method": "POST",
                "url": f"{V}/sobjects/Contact",
                "referenceId": "bad",
                "body": {"FirstName": "No last name", "AccountId": "@{ok.id}"},
            },
            {
                "method": "POST",
                "url": f"{V}/sobjects/Account",
                "referenceId": "never",
                "body": {"Name": "Never"},
            },
        ],
        all_or_none=True,
    )
    assert [r["httpStatusCode"] for r in results] == [400, 400, 400]
    assert results[0]["body"][0]["errorCode"] == "PROCESSING_HALTED"
    assert results[1]["body"][0]["errorCode"] == "REQUIRED_FIELD_MISSING"
    assert results[2]["body"][0]["errorCode"] == "PROCESSING_HALTED"
    assert sf.query("SELECT COUNT() FROM Account")["totalSize"] == 0
    assert env.state.events.latest_replay_id == events_before  # nothing committed, no events


def test_composite_without_all_or_none_halts_only_dependents(sf: Salesforce) -> None:
    results = _composite(
        sf,
        [
            {
                "method": "POST",
                "url": f"{V}/sobjects/Account",
                "referenceId": "bad",
                "body": {"Type": "Customer"},
            },
            {
                "method": "POST",
                "url": f"{V}/sobjects/Contact",
                "referenceId": "dependent",
                "body": {"LastName": "x", "AccountId": "@{bad.id}"},
            },
            {
                "method": "POST",
                "url": f"{V}/sobjects/Account",
                "referenceId": "independent",
                "body": {"Name": "Independent"},
            },
        ],
        all_or_none=False,
    )
    assert [r["httpStatusCode"] for r in results] == [400, 400, 201]
    assert results[1]["body"][0]["errorCode"] == "PROCESSING_HALTED"
    assert [r["Name"] for r in sf.query("SELECT Name FROM Account")["records"]] == ["Independent"]


def test_composite_transaction_is_one_cdc_transaction(sf: Salesforce, env: SalesforceEnv) -> None:
    start = env.state.events.latest_replay_id
    _composite(
        sf,
        [
            {
                "method": "POST",
                "url": f"{V}/sobjects/Account",
                "referenceId": "a",
                "body": {"Name": "A"},
            },
            {
                "method": "PATCH",
                "url": f"{V}/sobjects/Account/@{{a.id}}",
                "referenceId": "b",
                "body": {"Phone": "1"},
            },
            {
                "method": "POST",
                "url": f"{V}/sobjects/Account",
                "referenceId": "c",
                "body": {"Name": "C"},
            },
        ],
        all_or_none=True,
    )
    events = [e.to_json()["payload"]["ChangeEventHeader"] for e in env.state.events.since(start)]
    # Create + update of one record in one transaction folds into a single CREATE event.
    assert [h["changeType"] for h in events] == ["CREATE", "CREATE"]
    assert len({h["transactionKey"] for h in events}) == 1
    assert [h["sequenceNumber"] for h in events] == [1, 2]
    assert env.state.events.since(start)[0].fields["Phone"] == "1"


def test_collections_create_update_and_all_or_none(sf: Salesforce) -> None:
    created = sf.restful(
        "composite/sobjects",
        method="POST",
        json={
            "allOrNone": False,
            "records": [
                {"attributes": {"type": "Account"}, "Name": "One"},
                {"attributes": {"type": "Account"}, "Type": "No name"},
                {"attributes": {"type": "Contact"}, "LastName": "Two"},
            ],
        },
    )
    assert [r["success"] for r in created] == [True, False, True]
    assert created[1]["errors"][0]["statusCode"] == "REQUIRED_FIELD_MISSING"
    assert created[1]["errors"][0]["fields"] == ["Name"]
    account_id, contact_id = created[0]["id"], created[2]["id"]

    rolled = sf.restful(
        "composite/sobjects",
        method="PATCH",
        json={
            "allOrNone": True,
            "records": [
                {"attributes": {"type": "Account"}, "id": account_id, "Name": "One!"},
                {"attributes": {"type": "Contact"}, "id": contact_id, "LastName": None},
            ],
        },
    )
    assert rolled[0] == {
        "success": False,
        "errors": [
            {
                "statusCode": "ALL_OR_NONE_OPERATION_ROLLED_BACK",
                "message": "Record rolled back because not all records were valid and the "
                "request was using AllOrNone header",
                "fields": [],
            }
        ],
    }
    assert rolled[1]["errors"][0]["statusCode"] == "REQUIRED_FIELD_MISSING"
    assert sf.Account.get(account_id)["Name"] == "One"

    updated = sf.restful(
        "composite/sobjects",
        method="PATCH",
        json={"records": [{"attributes": {"type": "Account"}, "id": account_id, "Name": "One!"}]},
    )
    assert updated == [{"id": account_id, "success": True, "errors": []}]
    assert sf.Account.get(account_id)["Name"] == "One!"


def test_collections_upsert_retrieve_delete(sf: Salesforce, env: SalesforceEnv) -> None:
    upserted = sf.restful(
        "composite/sobjects/Account/ERP_Id__c",
        method="PATCH",
        json={
            "records": [
                {"attributes": {"type": "Account"}, "ERP_Id__c": "U-1", "Name": "U1"},
                {"attributes": {"type": "Account"}, "ERP_Id__c": "U-2", "Name": "U2"},
            ]
        },
    )
    assert [r["created"] for r in upserted] == [True, True]
    again = sf.restful(
        "composite/sobjects/Account/ERP_Id__c",
        method="PATCH",
        json={"records": [{"attributes": {"type": "Account"}, "ERP_Id__c": "U-1", "Name": "U1b"}]},
    )
    assert again[0]["created"] is False and again[0]["id"] == upserted[0]["id"]
    ids = ",".join(r["id"] for r in upserted)
    fetched = sf.restful(
        "composite/sobjects/Account", params={"ids": ids + ",001000000000000AAA", "fields": "Name"}
    )
    assert [r["Name"] if r else None for r in fetched] == ["U1b", "U2", None]
    deleted = sf.restful("composite/sobjects", method="DELETE", params={"ids": ids})
    assert [r["success"] for r in deleted] == [True, True]
    again_deleted = env.session().delete(
        env.api("/composite/sobjects"), params={"ids": ids}, headers=env.headers()
    )
    assert again_deleted.json()[0]["errors"][0]["statusCode"] == "ENTITY_IS_DELETED"


def test_collections_limit_and_id_on_insert(sf: Salesforce) -> None:
    too_many = [{"attributes": {"type": "Account"}, "Name": str(i)} for i in range(201)]
    with pytest.raises(SalesforceMalformedRequest) as exc:
        sf.restful("composite/sobjects", method="POST", json={"records": too_many})
    assert exc.value.content[0]["errorCode"] == "EXCEEDED_ID_LIMIT"
    result = sf.restful(
        "composite/sobjects",
        method="POST",
        json={
            "records": [
                {"attributes": {"type": "Account"}, "Id": "001000000000000AAA", "Name": "x"}
            ]
        },
    )
    assert result[0]["errors"][0] == {
        "statusCode": "INVALID_FIELD",
        "message": "cannot specify Id in an insert call",
        "fields": [],
    }


def test_collections_inside_all_or_none_composite(sf: Salesforce) -> None:
    results = _composite(
        sf,
        [
            {
                "method": "POST",
                "url": f"{V}/composite/sobjects",
                "referenceId": "batch",
                "body": {
                    "allOrNone": False,
                    "records": [
                        {"attributes": {"type": "Account"}, "Name": "Good"},
                        {"attributes": {"type": "Account"}, "Type": "Bad"},
                    ],
                },
            },
            {
                "method": "POST",
                "url": f"{V}/sobjects/Account",
                "referenceId": "after",
                "body": {"Name": "After"},
            },
        ],
        all_or_none=True,
    )
    # The outer allOrNone overrides the inner flag: the whole request is rolled back.
    assert results[0]["httpStatusCode"] == 200
    assert results[0]["body"][0]["errors"][0]["statusCode"] == "ALL_OR_NONE_OPERATION_ROLLED_BACK"
    assert results[1]["body"][0]["errorCode"] == "PROCESSING_HALTED"
    assert sf.query("SELECT COUNT() FROM Account")["totalSize"] == 0
