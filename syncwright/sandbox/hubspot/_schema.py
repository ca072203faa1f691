"""What a fresh HubSpot portal holds before anyone writes: object types, their properties
(standard ones plus the custom billing properties syncwright writes, like Salesforce's ``__c``
fields), the default deal pipeline and the HubSpot-defined association types.

Property names and association type ids follow HubSpot's reference pages:
https://developers.hubspot.com/docs/api/crm/properties (default properties per object),
https://developers.hubspot.com/docs/api/crm/associations/v4 (association type ids),
https://developers.hubspot.com/docs/api/crm/pipelines (the default "Sales Pipeline" stages).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

# Path name (``/crm/v3/objects/<name>``) -> singular name used in webhook subscription types and
# association labels, and the object type id.
OBJECT_TYPES: dict[str, tuple[str, str]] = {
    "contacts": ("contact", "0-1"),
    "companies": ("company", "0-2"),
    "deals": ("deal", "0-3"),
    "products": ("product", "0-7"),
    "line_items": ("line_item", "0-8"),
}
_BY_ALIAS = {alias: path for path, names in OBJECT_TYPES.items() for alias in (path, *names)}


def object_path(name: str) -> str | None:
    """``companies``, ``company`` or ``0-2`` -> ``companies``; None for an unknown type."""
    return _BY_ALIAS.get(name)


# Properties returned when a read names none (HubSpot's defaults per object).
DEFAULT_PROPERTIES: dict[str, tuple[str, ...]] = {
    "contacts": (
        "createdate",
        "email",
        "firstname",
        "hs_object_id",
        "lastmodifieddate",
        "lastname",
    ),
    "companies": ("createdate", "domain", "hs_lastmodifieddate", "hs_object_id", "name"),
    "deals": (
        "amount",
        "closedate",
        "createdate",
        "dealname",
        "dealstage",
        "hs_lastmodifieddate",
        "hs_object_id",
        "pipeline",
    ),
    "products": (
        "createdate",
        "description",
        "hs_lastmodifieddate",
        "hs_object_id",
        "name",
        "price",
    ),
    "line_items": (
        "amount",
        "createdate",
        "hs_lastmodifieddate",
        "hs_object_id",
        "hs_product_id",
        "name",
        "price",
        "quantity",
    ),
}
# Contacts name their modification stamp differently from every other object.
MODIFIED_PROPERTY = {"contacts": "lastmodifieddate"}
READ_ONLY = frozenset({"hs_object_id", "createdate", "hs_lastmodifieddate", "lastmodifieddate"})


@dataclass(frozen=True)
class PropertyDef:
    name: str
    label: str
    type: str = "string"  # string | number | date | datetime | enumeration | bool
    field_type: str = "text"
    group: str = "information"
    options: tuple[str, ...] = ()
    hubspot_defined: bool = True

    def as_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "label": self.label,
            "type": self.type,
            "fieldType": self.field_type,
            "groupName": self.group,
            "description": "",
            "options": [
                {"label": o, "value": o, "displayOrder": i, "hidden": False}
                for i, o in enumerate(self.options)
            ],
            "displayOrder": -1,
            "calculated": False,
            "externalOptions": False,
            "hasUniqueValue": False,
            "hidden": False,
            "hubspotDefined": self.hubspot_defined,
            "modificationMetadata": {
                "archivable": not self.hubspot_defined,
                "readOnlyDefinition": self.hubspot_defined,
                "readOnlyValue": self.name in READ_ONLY,
            },
            "formField": not self.hubspot_defined,
            "createdAt": "2026-01-01T00:00:00Z",
            "updatedAt": "2026-01-01T00:00:00Z",
            "archived": False,
        }


def _std(*names: str, **typed: str) -> list[PropertyDef]:
    found = [PropertyDef(n, n.replace("_", " ").title()) for n in names]
    found += [
        PropertyDef(
            n,
            n.replace("_", " ").title(),
            type=t,
            field_type="number"
            if t == "number"
            else "date"
            if t in ("date", "datetime")
            else "text",
        )
        for n, t in typed.items()
    ]
    return found


_COMMON = {"createdate": "datetime", "hs_lastmodifieddate": "datetime", "hs_object_id": "number"}
STANDARD_PROPERTIES: dict[str, list[PropertyDef]] = {
    "contacts": _std(
        "email",
        "firstname",
        "lastname",
        "phone",
        "company",
        "jobtitle",
        createdate="datetime",
        lastmodifieddate="datetime",
        hs_object_id="number",
    ),
    "companies": _std(
        "name",
        "domain",
        "website",
        "phone",
        "address",
        "address2",
        "city",
        "state",
        "zip",
        "country",
        "industry",
        "description",
        "hs_parent_company_id",
        **_COMMON,
    ),
    "deals": _std(
        "dealname",
        "dealstage",
        "pipeline",
        "deal_currency_code",
        "description",
        amount="number",
        closedate="datetime",
        hs_is_closed_won="bool",
        hs_is_closed="bool",
        **_COMMON,
    ),
    "products": _std("name", "description", "hs_sku", price="number", **_COMMON),
    "line_items": _std(
        "name",
        "description",
        "hs_product_id",
        "hs_sku",
        "hs_line_item_currency_code",
        "recurringbillingfrequency",
        price="number",
        quantity="number",
        amount="number",
        discount="number",
        hs_discount_percentage="number",
        hs_recurring_billing_start_date="date",
        **_COMMON,
    ),
}

# The billing facts syncwright writes onto companies: custom properties an admin creates
# (group "syncwright"), seeded so that a fresh sandbox portal is ready.
SYNCWRIGHT_PROPERTIES: tuple[PropertyDef, ...] = (
    PropertyDef(
        "syncwright_subscription_status",
        "Subscription status",
        type="enumeration",
        field_type="select",
        group="syncwright",
        options=("Trial", "Active", "Past Due", "Cancelled"),
        hubspot_defined=False,
    ),
    PropertyDef(
        "syncwright_acv",
        "ACV",
        type="number",
        field_type="number",
        group="syncwright",
        hubspot_defined=False,
    ),
    PropertyDef("syncwright_erp_id", "ERP id", group="syncwright", hubspot_defined=False),
    PropertyDef(
        "syncwright_last_invoice_number",
        "Last invoice number",
        group="syncwright",
        hubspot_defined=False,
    ),
    PropertyDef(
        "syncwright_last_invoice_status",
        "Last invoice status",
        group="syncwright",
        hubspot_defined=False,
    ),
    PropertyDef("legal_entity", "Legal entity", group="syncwright", hubspot_defined=False),
    # Lifecycle and ERP-owned facts (docs/lifecycle.md, docs/erp-source.md).
    *(
        PropertyDef(name, label, group="syncwright", hubspot_defined=False)
        for name, label in (
            ("syncwright_product_summary", "Product summary"),
            ("syncwright_renewal_date", "Renewal date"),
            ("syncwright_cancel_date", "Cancel date"),
            ("syncwright_standing", "Account standing"),
            ("syncwright_last_payment_date", "Last payment date"),
            ("syncwright_last_refund_date", "Last refund date"),
            ("syncwright_legal_name", "Legal name"),
            ("syncwright_tax_id", "Tax id"),
            ("syncwright_credit_status", "Credit status"),
            ("syncwright_payment_terms", "Payment terms"),
            ("syncwright_department", "Department"),
            ("syncwright_classification", "Class"),
            ("syncwright_location", "Location"),
        )
    ),
    *(
        PropertyDef(
            name,
            label,
            type="number",
            field_type="number",
            group="syncwright",
            hubspot_defined=False,
        )
        for name, label in (
            ("syncwright_renewal_amount", "Renewal amount"),
            ("syncwright_balance_due", "Balance due"),
            ("syncwright_last_payment_amount", "Last payment amount"),
            ("syncwright_last_refund_amount", "Last refund amount"),
        )
    ),
)

# The default deal pipeline: (stage id, label, isClosed, probability).
# The contact property syncwright reads a contact's roles from (a multiple checkboxes
# enumeration; HubSpot sends several values joined by ";").
SYNCWRIGHT_CONTACT_PROPERTIES: tuple[PropertyDef, ...] = (
    PropertyDef(
        "syncwright_contact_roles",
        "Contact roles",
        type="enumeration",
        field_type="checkbox",
        group="syncwright",
        options=("primary", "billing", "technical", "support"),
        hubspot_defined=False,
    ),
)

DEFAULT_PIPELINE_STAGES: tuple[tuple[str, str, bool, str], ...] = (
    ("appointmentscheduled", "Appointment Scheduled", False, "0.2"),
    ("qualifiedtobuy", "Qualified To Buy", False, "0.4"),
    ("presentationscheduled", "Presentation Scheduled", False, "0.6"),
    ("decisionmakerboughtin", "Decision Maker Bought-In", False, "0.8"),
    ("contractsent", "Contract Sent", False, "0.9"),
    ("closedwon", "Closed Won", True, "1.0"),
    ("closedlost", "Closed Lost", True, "0.0"),
)

# (from, to) -> (default typeId, primary typeId or None) for HUBSPOT_DEFINED associations.
ASSOCIATION_TYPES: dict[tuple[str, str], tuple[int, int | None]] = {
    ("contacts", "companies"): (279, 1),
    ("companies", "contacts"): (280, 2),
    ("deals", "contacts"): (3, None),
    ("contacts", "deals"): (4, None),
    ("deals", "companies"): (341, 5),
    ("companies", "deals"): (342, 6),
    ("line_items", "deals"): (20, None),
    ("deals", "line_items"): (19, None),
}


def pipeline_json() -> dict[str, Any]:
    stamp = "2026-01-01T00:00:00Z"
    return {
        "id": "default",
        "label": "Sales Pipeline",
        "displayOrder": 0,
        "archived": False,
        "createdAt": stamp,
        "updatedAt": stamp,
        "stages": [
            {
                "id": stage,
                "label": label,
                "displayOrder": n,
                "metadata": {"isClosed": "true" if closed else "false", "probability": p},
                "archived": False,
                "createdAt": stamp,
                "updatedAt": stamp,
                "writePermissions": "CRM_PERMISSIONS_ENFORCEMENT",
            }
            for n, (stage, label, closed, p) in enumerate(DEFAULT_PIPELINE_STAGES)
        ],
    }
