"""A write-back declared by an outbound mapping entity that reads one key per field -- the CRM
billing write-backs (``update_account_billing`` of Salesforce and HubSpot): which keys the
mapping writes, the vendor field each goes to (renamed per connection by an option), and which
of them must exist on the record's object. What differs per vendor (reading the object's
fields, the values' shapes) stays in the connector."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from syncwright.errors import BusinessRuleError, ConfigError
from syncwright.model import Money

if TYPE_CHECKING:
    from syncwright.mapping import CompiledMapping

__all__ = ["KeyedFields", "keyed_fields", "money_amount", "option_value"]


@dataclass(frozen=True)
class KeyedFields:
    """What an outbound mapping entity declares for a keyed write."""

    mapping: CompiledMapping
    entity: str
    # key -> vendor field name (the mapping's target, or the connection option's rename)
    names: Mapping[str, str]
    # key -> the mapping's own target (the key of the mapped body)
    targets: Mapping[str, str]
    # keys whose vendor field must exist (the mapping's options.required_keys)
    required: frozenset[str]


def keyed_fields(
    mapping: CompiledMapping,
    entity: str,
    *,
    connection: str,
    renamed: Mapping[str, str],
    rename_option: str,
) -> KeyedFields:
    """Read ``entity`` of ``mapping`` (each field ``from: <key>`` into one target field) and
    apply ``renamed`` (``options.<rename_option>`` of ``connection``); a malformed entity or a
    rename of a key the mapping does not write is a :class:`ConfigError`."""
    declared = mapping.entities.get(entity)
    if declared is None:
        raise ConfigError(
            f"mapping {mapping.ref} has no entity {entity!r}",
            code="config.invalid_mapping",
            problems=[f"{mapping.source}: entities: add {entity}"],
        )
    targets: dict[str, str] = {}
    for spec in declared.fields:
        if len(spec.paths) != 1 or spec.paths[0].root or len(spec.target) != 1:
            raise ConfigError(
                f"mapping {mapping.ref}: each field of {entity} reads one key (from: <key>) "
                "into one field",
                code="config.invalid_mapping",
                problems=[f"{mapping.source}: entities.{entity}: one key per field"],
            )
        targets[spec.paths[0].text] = spec.target[0].text
    unknown = sorted(set(renamed) - set(targets))
    if unknown:
        raise ConfigError(
            f"options.{rename_option} of {connection!r} names {', '.join(unknown)}; "
            f"{mapping.ref} writes {', '.join(sorted(targets))}",
            code="config.invalid",
            problems=[f"connections.{connection}.options.{rename_option}: {k}" for k in unknown],
        )
    required = frozenset(str(k) for k in mapping.options.get("required_keys") or ())
    return KeyedFields(mapping, entity, {**targets, **renamed}, targets, required)


def option_value(
    value: Any, values: Mapping[str, Any] | None, *, where: str, key: str, option: str, vendor: str
) -> str | None:
    """A canonical code -> the option (picklist) value ``values`` (the connection's
    ``options.<option>`` over the mapping's) gives it; a code without one parks the write
    (``<vendor>.status_unmapped``)."""
    if value is None:
        return None
    found = (values or {}).get(str(value))
    if found is None:
        what = "subscription status" if key == "subscription_status" else key
        raise BusinessRuleError(
            f"{where}: {what} {value!r} has no option value",
            code=f"{vendor}.status_unmapped",
            remediation=f"Add options.{option}.{value}: <option value> to the {vendor} "
            "connection (and the value to the field's options), then retry this exception.",
        )
    return str(found)


def money_amount(
    value: Any, *, where: str, key: str, currency: str | None, vendor: str
) -> Decimal | None:
    """Canonical Money -> its amount in major units, refused unless the record holds amounts
    in ``currency`` (unknown: any) -- writing another currency's figure would be silently
    wrong (``<vendor>.currency_mismatch``)."""
    if value is None:
        return None
    try:
        amount = Money.model_validate(value)
    except ValueError as exc:  # pydantic's ValidationError is a ValueError
        raise BusinessRuleError(
            f"{key} must be a Money object (amount_minor, currency), got {value!r}",
            code=f"{vendor}.billing_value_invalid",
            remediation=f"Fix the workflow that passes {key}, then retry this exception.",
        ) from exc
    if currency and currency.upper() != amount.currency:
        raise BusinessRuleError(
            f"{key} is in {amount.currency} but {where} holds amounts in {currency}",
            code=f"{vendor}.currency_mismatch",
            remediation=f"Convert {key} in the workflow, or change the record's currency in "
            f"{vendor} (or options.default_currency of the connection), then retry this "
            "exception.",
        )
    return amount.to_decimal()
