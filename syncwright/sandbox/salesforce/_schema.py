"""Object and field definitions: standard fields from ``objects.json``, custom fields declared on
the state.

``objects.json`` is derived from Salesforce's Object Reference (see its ``_source`` entry and the
README); it keeps each field's type, length, nillability and whether it can be set on create or
update, which is all the emulator needs to validate writes the way Salesforce does.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace
from functools import cache
from importlib import resources
from typing import Any, Literal, get_args

FieldType = Literal[
    "id",
    "string",
    "textarea",
    "picklist",
    "multipicklist",
    "email",
    "phone",
    "url",
    "reference",
    "boolean",
    "int",
    "double",
    "currency",
    "percent",
    "date",
    "datetime",
    "address",
]
FIELD_TYPES: frozenset[str] = frozenset(get_args(FieldType))
TEXT_TYPES = frozenset(
    {"id", "string", "textarea", "picklist", "multipicklist", "email", "phone", "url", "reference"}
)
NUMBER_TYPES = frozenset({"int", "double", "currency", "percent"})
CUSTOM_FIELD_TYPES = frozenset(FIELD_TYPES - {"id", "address"})

# Address compound fields: component suffix -> key in the compound REST value.
ADDRESS_COMPONENTS: tuple[tuple[str, str], ...] = (
    ("Street", "street"),
    ("City", "city"),
    ("State", "state"),
    ("StateCode", "stateCode"),
    ("PostalCode", "postalCode"),
    ("Country", "country"),
    ("CountryCode", "countryCode"),
    ("Latitude", "latitude"),
    ("Longitude", "longitude"),
    ("GeocodeAccuracy", "geocodeAccuracy"),
)

_LABELS: dict[str, tuple[str, str]] = {
    "Account": ("Account", "Accounts"),
    "Contact": ("Contact", "Contacts"),
    "Opportunity": ("Opportunity", "Opportunities"),
    "OpportunityLineItem": ("Opportunity Product", "Opportunity Product"),
    "Product2": ("Product", "Products"),
    "Pricebook2": ("Price Book", "Price Books"),
    "PricebookEntry": ("Price Book Entry", "Price Book Entries"),
}


def _humanize(name: str) -> str:
    base = name[:-3] if name.endswith("__c") else name
    if base.endswith("Id") and len(base) > 2:
        base = base[:-2] + " ID"
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])", " ", base).replace("_", " ").strip()


@dataclass(frozen=True)
class FieldDef:
    """One field of an sObject, in describe terms."""

    name: str
    type: str
    nillable: bool = True
    createable: bool = True
    updateable: bool = True
    length: int | None = None
    reference_to: tuple[str, ...] = ()
    picklist_values: tuple[str, ...] = ()
    defaulted_on_create: bool = False
    custom: bool = False
    external_id: bool = False
    unique: bool = False
    case_sensitive: bool = False

    @property
    def required_on_create(self) -> bool:
        """Salesforce's rule: createable, not nillable, not defaulted, and not a checkbox."""
        return (
            self.createable
            and not self.nillable
            and not self.defaulted_on_create
            and self.type != "boolean"
        )

    @property
    def label(self) -> str:
        return _humanize(self.name)

    def describe(self) -> dict[str, Any]:
        """The subset of DescribeFieldResult that clients commonly read."""
        length = self.length or (18 if self.type in ("id", "reference") else 0)
        soap_type = {
            "id": "tns:ID",
            "reference": "tns:ID",
            "boolean": "xsd:boolean",
            "int": "xsd:int",
            "double": "xsd:double",
            "currency": "xsd:double",
            "percent": "xsd:double",
            "date": "xsd:date",
            "datetime": "xsd:dateTime",
            "address": "urn:address",
        }.get(self.type, "xsd:string")
        return {
            "name": self.name,
            "label": self.label,
            "type": self.type,
            "soapType": soap_type,
            "length": length if self.type in TEXT_TYPES else 0,
            "nillable": self.nillable,
            "createable": self.createable,
            "updateable": self.updateable,
            "defaultedOnCreate": self.defaulted_on_create or self.type == "boolean",
            "custom": self.custom,
            "externalId": self.external_id,
            "unique": self.unique,
            "caseSensitive": self.case_sensitive,
            "idLookup": self.name == "Id" or self.external_id,
            "filterable": self.type != "textarea",
            "sortable": self.type not in ("textarea", "multipicklist", "address"),
            "referenceTo": list(self.reference_to),
            "relationshipName": (
                self.name[:-2] if self.type == "reference" and self.name.endswith("Id") else None
            ),
            "picklistValues": [
                {"active": True, "defaultValue": False, "label": v, "validFor": None, "value": v}
                for v in self.picklist_values
            ],
        }


@dataclass(frozen=True)
class CustomField:
    """A custom field to declare on an object, e.g. the ``ERP_Id__c`` external id on Account.

    Validates itself: the name must end in ``__c`` and the type must be a Salesforce field type.
    """

    object: str
    name: str
    type: str = "string"
    length: int | None = None
    required: bool = False
    external_id: bool = False
    unique: bool = False
    case_sensitive: bool = False
    picklist_values: tuple[str, ...] = ()
    reference_to: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not re.fullmatch(r"[A-Za-z][A-Za-z0-9_]*__c", self.name) or "___" in self.name:
            raise ValueError(f"custom field name must be an API name ending in __c: {self.name!r}")
        if self.type not in CUSTOM_FIELD_TYPES:
            raise ValueError(f"unsupported custom field type {self.type!r} for {self.name}")
        if self.external_id and self.type not in ("string", "email", "int", "double"):
            raise ValueError(f"external id {self.name} must be text, email or number")
        if self.type == "reference" and not self.reference_to:
            raise ValueError(f"lookup field {self.name} needs reference_to")

    def to_field(self) -> FieldDef:
        length = self.length
        if length is None and self.type in ("string", "picklist", "email", "phone", "url"):
            length = 255
        if self.type == "textarea" and length is None:
            length = 32768
        if self.type == "reference":
            length = 18
        return FieldDef(
            name=self.name,
            type=self.type,
            nillable=not self.required,
            length=length,
            reference_to=tuple(self.reference_to),
            picklist_values=tuple(self.picklist_values),
            custom=True,
            external_id=self.external_id,
            unique=self.unique,
            case_sensitive=self.case_sensitive,
        )


# The custom fields syncwright's own Salesforce connector relies on; a state declares these
# unless it is given another list.
SYNCWRIGHT_CUSTOM_FIELDS: tuple[CustomField, ...] = (
    CustomField("Account", "ERP_Id__c", "string", length=255, external_id=True, unique=True),
    CustomField(
        "Account",
        "Subscription_Status__c",
        "picklist",
        picklist_values=("Trial", "Active", "Past Due", "Cancelled"),
    ),
    CustomField("Account", "ACV__c", "currency"),
    # Lifecycle fields (docs/lifecycle.md): contract, renewal forecast and payment standing.
    CustomField("Account", "Product_Summary__c", "string", length=255),
    CustomField("Account", "Renewal_Date__c", "date"),
    CustomField("Account", "Renewal_Amount__c", "currency"),
    CustomField("Account", "Cancel_Date__c", "date"),
    CustomField(
        "Account",
        "Account_Standing__c",
        "picklist",
        picklist_values=("Current", "Past Due", "Suspended"),
    ),
    CustomField("Account", "Balance_Due__c", "currency"),
    CustomField("Account", "Last_Payment_Date__c", "date"),
    CustomField("Account", "Last_Payment_Amount__c", "currency"),
    CustomField("Account", "Last_Refund_Date__c", "date"),
    CustomField("Account", "Last_Refund_Amount__c", "currency"),
    # A support escalation's Task on the account carries the case's global id, so writing it
    # again finds the same Task (docs/lifecycle.md).
    CustomField("Task", "Syncwright_Id__c", "string", length=255, external_id=True, unique=True),
    # What the ERP owns, shown on the account (docs/erp-source.md).
    CustomField("Account", "Legal_Name__c", "string", length=255),
    CustomField("Account", "Tax_Id__c", "string", length=64),
    CustomField(
        "Account", "Credit_Status__c", "picklist", picklist_values=("Good", "Watch", "Hold")
    ),
    CustomField("Account", "Payment_Terms__c", "string", length=64),
    CustomField("Account", "Department__c", "string", length=255),
    CustomField("Account", "Class__c", "string", length=255),
    CustomField("Account", "Location__c", "string", length=255),
)


@dataclass
class ObjectDef:
    """One sObject type: key prefix, fields, and the children deleted with it."""

    name: str
    key_prefix: str
    fields: dict[str, FieldDef]
    source_url: str | None = None
    cascade_delete: tuple[tuple[str, str], ...] = ()
    createable: bool = True
    updateable: bool = True
    deletable: bool = True
    queryable: bool = True
    _by_lower: dict[str, FieldDef] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        self._by_lower = {name.lower(): f for name, f in self.fields.items()}

    def field(self, name: str) -> FieldDef | None:
        """Field names are case-insensitive in Salesforce; this returns the canonical one."""
        return self._by_lower.get(name.lower())

    def add_field(self, definition: FieldDef) -> None:
        self.fields[definition.name] = definition
        self._by_lower[definition.name.lower()] = definition

    @property
    def label(self) -> str:
        return _LABELS.get(self.name, (self.name, self.name))[0]

    @property
    def label_plural(self) -> str:
        return _LABELS.get(self.name, (self.name, self.name + "s"))[1]

    def indexed_fields(self) -> Iterator[FieldDef]:
        """Fields looked up by value: external ids (upsert) and unique fields (duplicates)."""
        return (f for f in self.fields.values() if f.external_id or f.unique)

    def address_prefixes(self) -> dict[str, str]:
        """Compound address field name -> component prefix (``BillingAddress`` -> ``Billing``)."""
        return {
            name: name[: -len("Address")]
            for name, f in self.fields.items()
            if f.type == "address" and name.endswith("Address")
        }


@cache
def _standard_json() -> dict[str, Any]:
    text = resources.files(__package__).joinpath("objects.json").read_text(encoding="utf-8")
    data: dict[str, Any] = json.loads(text)["objects"]
    return data


def _field_from_json(name: str, raw: dict[str, Any]) -> FieldDef:
    return FieldDef(
        name=name,
        type=str(raw["type"]),
        nillable=bool(raw.get("nillable", True)),
        createable=bool(raw.get("createable", True)),
        updateable=bool(raw.get("updateable", True)),
        length=raw.get("length"),
        reference_to=tuple(raw.get("referenceTo", ())),
        picklist_values=tuple(raw.get("picklistValues", ())),
        defaulted_on_create=bool(raw.get("defaultedOnCreate", False)),
    )


class Schema:
    """The objects an emulated org has, looked up case-insensitively by name or key prefix."""

    def __init__(self, custom_fields: Iterable[CustomField] = SYNCWRIGHT_CUSTOM_FIELDS) -> None:
        self.objects: dict[str, ObjectDef] = {}
        for name, raw in _standard_json().items():
            fields = {fname: _field_from_json(fname, f) for fname, f in raw["fields"].items()}
            self.objects[name] = ObjectDef(
                name=name,
                key_prefix=raw["keyPrefix"],
                fields=fields,
                source_url=raw.get("sourceUrl"),
                cascade_delete=tuple(
                    (c["childObject"], c["field"]) for c in raw.get("cascadeDelete", ())
                ),
                createable=raw.get("createable", True),
                updateable=raw.get("updateable", True),
                deletable=raw.get("deletable", True),
                queryable=raw.get("queryable", True),
            )
        self._by_lower = {n.lower(): o for n, o in self.objects.items()}
        self._by_prefix = {o.key_prefix: o for o in self.objects.values()}
        for custom in custom_fields:
            self.declare(custom)

    def declare(self, custom: CustomField) -> FieldDef:
        obj = self.get(custom.object)
        if obj is None:
            raise ValueError(f"unknown object {custom.object!r} for custom field {custom.name}")
        for target in custom.reference_to:
            if self.get(target) is None and target != "User":
                raise ValueError(f"{custom.name} refers to unknown object {target!r}")
        definition = custom.to_field()
        existing = obj.field(custom.name)
        if existing is not None and not existing.custom:
            raise ValueError(f"{custom.name} clashes with a standard field of {obj.name}")
        obj.add_field(replace(definition))
        return definition

    def get(self, name: str) -> ObjectDef | None:
        return self._by_lower.get(name.lower())

    def by_prefix(self, record_id: str) -> ObjectDef | None:
        return self._by_prefix.get(record_id[:3])
