"""JSON Schema of ``syncwright.yaml``, for editors (YAML language servers) and tooling."""

from __future__ import annotations

from typing import Any

from ._models import Settings
from ._vendors import installed_vendors

__all__ = ["settings_json_schema"]

JSON_SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"


def settings_json_schema() -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of the config file as written.

    Secret fields are documented as the references a user writes (``${ENV_NAME}``,
    ``file:PATH``, ``{env: NAME}``, ``{file: PATH}``), never as values. Unknown keys are not
    allowed (``additionalProperties: false``), as in validation.
    """
    schema = _names_as_property_names(Settings.model_json_schema(mode="validation"))
    # The vendors are whatever connectors are installed (entry points), known only now.
    vendor = schema["$defs"]["ConnectionSettings"]["properties"]["vendor"]
    vendor["enum"] = list(installed_vendors())
    _options_per_vendor(schema)
    return {
        "$schema": JSON_SCHEMA_DIALECT,
        **schema,
        "description": (
            "syncwright configuration. Secrets are references: ${ENV_NAME} or file:PATH. "
            "See docs/config.md."
        ),
    }


def _names_as_property_names(node: Any) -> Any:
    """``dict[Name, X]`` comes out as ``patternProperties``, which lets a key that does not match
    through unchecked. ``propertyNames`` + ``additionalProperties`` says what validation does:
    every key must match and every value must be an X."""
    if isinstance(node, list):
        return [_names_as_property_names(item) for item in node]
    if not isinstance(node, dict):
        return node
    out = {key: _names_as_property_names(value) for key, value in node.items()}
    patterns = out.get("patternProperties")
    if isinstance(patterns, dict) and len(patterns) == 1 and "additionalProperties" not in out:
        ((pattern, value),) = patterns.items()
        del out["patternProperties"]
        out["propertyNames"] = {"pattern": pattern}
        out["additionalProperties"] = value
    return out


def _options_per_vendor(schema: dict[str, Any]) -> None:
    """``options`` described by each installed connector's options model: one
    ``if vendor == X then options is X's model`` rule per vendor. A connector that does not
    load is left out here; ``config validate`` reports it."""
    # Imported here: the connector kit imports this package, not the other way round.
    from syncwright.connectors._base.registry import connector_class
    from syncwright.errors import ConfigError

    rules: list[dict[str, Any]] = []
    for name in installed_vendors():
        try:
            model = connector_class(name).options_model
        except ConfigError:
            continue
        described = model.model_json_schema(mode="validation", ref_template="#/$defs/{model}")
        schema["$defs"].update(described.pop("$defs", {}))
        schema["$defs"][model.__name__] = described
        rules.append(
            {
                "if": {"properties": {"vendor": {"const": name}}, "required": ["vendor"]},
                "then": {"properties": {"options": {"$ref": f"#/$defs/{model.__name__}"}}},
            }
        )
    schema["$defs"]["ConnectionSettings"]["allOf"] = rules
