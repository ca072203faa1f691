"""The emulator against Salesforce's own artifacts in tests/vendor/salesforce:
the Object Reference scrape (key prefixes, field names, required fields) and Salesforce's Postman
request templates (methods and paths)."""

from __future__ import annotations

import datetime as dt
import json
import re
from typing import TYPE_CHECKING, Any

import pytest

from syncwright.sandbox.salesforce import SalesforceState

from .conftest import API_VERSION, vendor_json

if TYPE_CHECKING:
    from tests.sandbox.salesforce.conftest import SalesforceEnv

SCRAPED = ["Account", "Contact", "Opportunity", "OpportunityLineItem", "Product2"]


@pytest.mark.parametrize("name", SCRAPED)
def test_object_reference_matches(name: str) -> None:
    reference = vendor_json(f"object-reference/{name}.json")[name]
    obj = SalesforceState(custom_fields=()).object(name)
    assert obj.key_prefix == reference["keyPrefix"]
    vendor_fields = reference["properties"]
    for field_name, definition in obj.fields.items():
        assert field_name in vendor_fields, f"{name}.{field_name} is not in the Object Reference"
        if vendor_fields[field_name].get("maxLength") and definition.type != "boolean":
            assert definition.length == vendor_fields[field_name]["maxLength"]
    required = {f.name for f in obj.fields.values() if f.required_on_create}
    for field_name in ("Name", "LastName", "StageName", "CloseDate", "Quantity"):
        if field_name in vendor_fields and not vendor_fields[field_name].get("readOnly"):
            assert (field_name in required) == (vendor_fields[field_name]["nullable"] is False)


def _templates() -> dict[str, dict[str, Any]]:
    data = vendor_json("postman-salesforce-apis.requests-subset.json")
    return {t["name"]: t for t in data["requests"]}


# Postman template name -> (body to send, expected status)
SERVED: dict[str, tuple[Any, int]] = {
    "Versions": (None, 200),
    "Resources by Version": (None, 200),
    "Describe Global": (None, 200),
    "SObject Basic Information": (None, 200),
    "SObject Describe": (None, 200),
    "SObject Create": ("template", 201),
    "SObject Rows": (None, 200),
    "SObject Rows Update": ({"Name": "Updated"}, 204),
    "SObject Rows by External ID": (None, 200),
    "SObject Get Updated": (None, 200),
    "SObject Get Deleted": (None, 200),
    "Query": (None, 200),
    "QueryAll": (None, 200),
    "Limit": (None, 200),
    "SObject Collections Create": (
        {"allOrNone": True, "records": [{"attributes": {"type": "Account"}, "Name": "C"}]},
        200,
    ),
    "SObject Collections Update": (
        {"records": [{"attributes": {"type": "Account"}, "id": "<RECORD_ID>", "Name": "U"}]},
        200,
    ),
    "SObject Collections Retrieve": (None, 200),
    "Composite": (
        {
            "allOrNone": True,
            "compositeRequest": [
                {
                    "method": "GET",
                    "url": "/services/data/v59.0/sobjects/Account/<RECORD_ID>",
                    "referenceId": "read",
                }
            ],
        },
        200,
    ),
    "SObject Rows Delete": (None, 204),
    "SObject Collections Delete": (None, 200),
}


@pytest.mark.parametrize("name", list(SERVED))
def test_postman_templates_are_served(env: SalesforceEnv, name: str) -> None:
    template = _templates().get(name)
    assert template is not None, f"template {name!r} is not in the vendor subset"
    session = env.session()
    headers = env.headers()
    record_id = env.state.insert("Account", {"Name": "Template", "ERP_Id__c": "T-1"})
    now = dt.datetime.now(dt.UTC)
    replacements = {
        "{{_endpoint}}": env.url,
        "{{url}}": env.url,
        "{{site}}": "",
        "{{version}}": API_VERSION,
        "<SOBJECT_API_NAME>": "Account",
        "<RECORD_ID>": record_id,
        "<FIELD_NAME>": "ERP_Id__c",
        "<FIELD_VALUE>": "T-1",
    }
    url = template["url"].strip()
    for placeholder, value in replacements.items():
        url = url.replace(placeholder, value)
    base, _, query = url.partition("?")
    params: dict[str, str] = {}
    for part in filter(None, query.split("&")):
        key, _, value = part.partition("=")
        params[key] = value.replace("+", " ")
    defaults = {
        "start": (now - dt.timedelta(days=1)).isoformat(),
        "end": (now + dt.timedelta(minutes=1)).isoformat(),
        "ids": record_id,
        "fields": "Name",
        "allOrNone": "false",
    }
    for key in params:
        params[key] = params[key] or defaults.get(key, "")
    body, expected = SERVED[name]
    if body == "template":
        body = json.loads(template["body"])  # Salesforce's own {"Name": "test"}
    elif body is not None:
        body = json.loads(json.dumps(body).replace("<RECORD_ID>", record_id))
    response = session.request(template["method"], base, params=params, json=body, headers=headers)
    assert response.status_code == expected, (name, response.text)
    if name.startswith("SObject Collections") and name != "SObject Collections Retrieve":
        assert all(r["success"] for r in response.json()), response.text
    assert re.match(
        r"api-usage=\d+/\d+", response.headers.get("Sforce-Limit-Info", "api-usage=0/0")
    )
