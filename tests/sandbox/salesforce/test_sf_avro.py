"""The emulator's Avro change events against Salesforce's documented format (our notes:
tests/vendor/salesforce/pubsub/CDC-EVENT-FORMAT.facts.json), decoded as a subscriber would."""

from __future__ import annotations

import io
import json

import fastavro

from syncwright.sandbox.salesforce import SalesforceState
from syncwright.sandbox.salesforce._avro import avro_schema, bitmap, encode, schema_json
from tests._vendor import vendor_json

FACTS = "salesforce/pubsub/CDC-EVENT-FORMAT.facts.json"


def test_header_and_shape_follow_the_documented_format() -> None:
    facts = vendor_json(FACTS)
    state = SalesforceState()
    schema = avro_schema(state.schema.objects["Account"])
    shape = facts["avro_schema_shape"]
    assert schema["namespace"] == "com.sforce.eventbus"
    assert schema["name"] == "AccountChangeEvent"
    header, *fields = schema["fields"]
    assert header["name"] == "ChangeEventHeader"
    documented = {f["name"] for f in facts["ChangeEventHeader_fields"]}
    assert {f["name"] for f in header["type"]["fields"]} == documented
    (change_type,) = [f for f in facts["ChangeEventHeader_fields"] if f["name"] == "changeType"]
    (ours,) = [f for f in header["type"]["fields"] if f["name"] == "changeType"]
    assert ours["type"]["symbols"] == change_type["values"]
    # Every other field nullable with default null; compound fields nested records.
    assert "nullable union" in shape["other_fields"]
    assert all(f["type"][0] == "null" and f["default"] is None for f in fields)
    (address,) = [f for f in fields if f["name"] == "BillingAddress"]
    assert address["type"][1]["type"] == "record"
    assert not {"IsDeleted", "SystemModstamp"} & {f["name"] for f in fields}  # excluded fields


def test_events_decode_with_the_schema_and_bitmaps_name_positions() -> None:
    state = SalesforceState()
    account = state.insert("Account", {"Name": "Acme", "BillingCity": "Oslo"})
    state.modify("Account", account, {"BillingCity": "Bergen", "Name": "Acme AS"})
    obj = state.schema.objects["Account"]
    created, updated = state.events.since(0, entity="Account")
    schema = fastavro.parse_schema(json.loads(schema_json(obj)))
    record = fastavro.schemaless_reader(io.BytesIO(encode(obj, created)), schema, None)
    assert isinstance(record, dict)
    assert record["Name"] == "Acme" and record["BillingAddress"]["City"] == "Oslo"
    assert isinstance(record["CreatedDate"], int)  # date-times as epoch milliseconds
    head = fastavro.schemaless_reader(io.BytesIO(encode(obj, updated)), schema, None)
    assert isinstance(head, dict)
    changed = head["ChangeEventHeader"]["changedFields"]
    # Element 0: top-level positions (1 = the first field after the header); then
    # "<pos>-<bits>" for the compound's parts, as the facts' example shows.
    names = [f["name"] for f in avro_schema(obj)["fields"]]
    top = int(changed[0], 16)
    assert {names[i] for i in range(len(names)) if top >> i & 1} == {"Name", "LastModifiedDate"}
    position, bits = changed[1].split("-")
    assert names[int(position)] == "BillingAddress" and bits.startswith("0x")
    assert bitmap(obj, ("BillingAddress.City",)) == ["0x0", changed[1]]
