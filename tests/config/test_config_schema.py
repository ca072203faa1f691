"""JSON Schema export: structure, and the example conforms to it (a small structural check;
jsonschema itself is not a dependency)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import yaml

from syncwright.config import DOMAINS, installed_vendors, settings_json_schema

EXAMPLE = Path(__file__).resolve().parents[2] / "syncwright.example.yaml"


def resolve(schema: dict[str, Any], root: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        name = schema["$ref"].removeprefix("#/$defs/")
        schema = {**root["$defs"][name], **{k: v for k, v in schema.items() if k != "$ref"}}
    return schema


def check(value: Any, schema: dict[str, Any], root: dict[str, Any], path: str) -> list[str]:
    """A subset of JSON Schema: $ref, anyOf/oneOf, type, enum, pattern, properties,
    additionalProperties, propertyNames, required, items, minimum, minItems/maxItems."""
    schema = resolve(schema, root)
    for key in ("anyOf", "oneOf"):
        if key in schema:
            matches = [s for s in schema[key] if not check(value, s, root, path)]
            return [] if matches else [f"{path}: matches none of {key}"]
    errors: list[str] = []
    kinds = {
        "object": dict,
        "array": list,
        "string": str,
        "integer": int,
        "number": (int, float),
        "boolean": bool,
        "null": type(None),
    }
    kind = schema.get("type")
    is_bool_as_number = kind in ("integer", "number") and isinstance(value, bool)
    if kind is not None and (not isinstance(value, kinds[kind]) or is_bool_as_number):
        return [f"{path}: expected {kind}"]
    if "enum" in schema and value not in schema["enum"]:
        errors.append(f"{path}: not in enum")
    if "pattern" in schema and isinstance(value, str) and not re.search(schema["pattern"], value):
        errors.append(f"{path}: does not match {schema['pattern']}")
    if "minimum" in schema and isinstance(value, int | float) and value < schema["minimum"]:
        errors.append(f"{path}: below minimum")
    if isinstance(value, dict):
        props = schema.get("properties", {})
        errors += [f"{path}.{k}: required" for k in schema.get("required", []) if k not in value]
        for key, item in value.items():
            if "propertyNames" in schema:
                errors += check(key, schema["propertyNames"], root, f"{path}.{key}(name)")
            if key in props:
                errors += check(item, props[key], root, f"{path}.{key}")
            elif schema.get("additionalProperties") is False:
                errors.append(f"{path}.{key}: not allowed")
            elif isinstance(schema.get("additionalProperties"), dict):
                errors += check(item, schema["additionalProperties"], root, f"{path}.{key}")
    if isinstance(value, list):
        if len(value) < schema.get("minItems", 0) or len(value) > schema.get("maxItems", 10**9):
            errors.append(f"{path}: wrong number of items")
        if "items" in schema:
            for index, item in enumerate(value):
                errors += check(item, schema["items"], root, f"{path}[{index}]")
    return errors


def test_schema_is_json_and_describes_every_section() -> None:
    schema = settings_json_schema()
    json.dumps(schema)  # serializable
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["type"] == "object"
    assert schema["additionalProperties"] is False
    assert set(schema["properties"]) == {
        "database",
        "server",
        "engine",
        "connections",
        "ownership",
        "mappings",
        "workflows",
        "reconciliation",
        "telemetry",
        "audit",
        "exceptions",
        "auth",
        "lifecycle",
    }
    defs = schema["$defs"]
    assert all(d.get("additionalProperties") is False for d in defs.values() if "properties" in d)
    assert defs["ConnectionSettings"]["properties"]["vendor"]["enum"] == list(installed_vendors())
    assert schema["properties"]["ownership"]["propertyNames"]["enum"] == list(DOMAINS)
    assert defs["ServerSettings"]["properties"]["port"]["default"] == 8787
    assert defs["DatabaseSettings"]["properties"]["url"]["default"] == "sqlite:///syncwright.db"


def test_secret_fields_are_documented_as_references() -> None:
    schema = settings_json_schema()
    credential = schema["$defs"]["ConnectionSettings"]["properties"]["credentials"]
    secret = credential["additionalProperties"]
    assert "${ENV_NAME}" in secret["description"] and "file:" in secret["description"]
    patterns = [s.get("pattern") for s in secret["oneOf"]]
    assert re.search(patterns[0], "${STRIPE_API_KEY}")
    assert not re.search(patterns[0], "sk_live_123")
    assert re.search(patterns[1], "file:/run/secrets/x")
    webhook = schema["$defs"]["WebhookSettings"]["properties"]["secrets"]
    assert webhook["items"]["oneOf"] == secret["oneOf"]


def test_example_conforms_to_the_schema() -> None:
    schema = settings_json_schema()
    document = yaml.safe_load(EXAMPLE.read_text())
    assert check(document, schema, schema, "") == []


def test_schema_check_catches_mistakes() -> None:
    schema = settings_json_schema()
    document = yaml.safe_load(EXAMPLE.read_text())
    document["server"]["hots"] = "x"
    document["connections"]["stripe"]["credentials"]["api_key"] = "sk_live_literal"
    document["ownership"]["acount"] = {"system": "stripe"}
    document["connections"]["my crm"] = {"vendor": "pipedrive"}  # no pipedrive connector installed
    errors = check(document, schema, schema, "")
    assert ".server.hots: not allowed" in errors
    assert ".connections.stripe.credentials.api_key: matches none of oneOf" in errors
    assert any(e.startswith(".ownership.acount(name)") for e in errors)
    assert any(e.startswith(".connections.my crm(name): does not match") for e in errors)
    assert ".connections.my crm.vendor: not in enum" in errors
    assert len(errors) == 5
