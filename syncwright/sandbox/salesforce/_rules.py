"""The platform behaviour a sync engine bumps into: derived fields and the sales-cloud rules
around products, price books and opportunity line items.

Sources (Object Reference): Opportunity (StageName drives Probability, ForecastCategory,
IsClosed, IsWon; Amount is the sum of line items once products are added), OpportunityLineItem
(needs a PricebookEntryId or Product2Id; UnitPrice and TotalPrice are mutually exclusive),
PricebookEntry (a custom price book needs a standard price first), Contact (Name is built from
its parts). Stage defaults are those of a new org's Opportunity Stage picklist.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from ._errors import ApiError, SalesforceApiError

Record = dict[str, Any]
Getter = Callable[[str, str], Record | None]
Finder = Callable[[str, Callable[[Record], bool]], list[Record]]

# StageName -> (Probability, ForecastCategoryName, IsClosed, IsWon)
_STAGES: dict[str, tuple[float, str, bool, bool]] = {
    "prospecting": (10.0, "Pipeline", False, False),
    "qualification": (10.0, "Pipeline", False, False),
    "needs analysis": (20.0, "Pipeline", False, False),
    "value proposition": (50.0, "Pipeline", False, False),
    "id. decision makers": (60.0, "Pipeline", False, False),
    "perception analysis": (70.0, "Pipeline", False, False),
    "proposal/price quote": (75.0, "Pipeline", False, False),
    "negotiation/review": (90.0, "Pipeline", False, False),
    "closed won": (100.0, "Closed", True, True),
    "closed lost": (0.0, "Omitted", True, False),
}
_FORECAST_API = {"Best Case": "BestCase", "Commit": "Forecast"}


def _integrity(message: str, fields: list[str] | None = None) -> SalesforceApiError:
    return SalesforceApiError(
        400,
        [
            ApiError(
                "FIELD_INTEGRITY_EXCEPTION", f"field integrity exception: {message}", fields or []
            )
        ],
    )


def derive(
    object_name: str,
    record: Record,
    old: Record | None,
    explicit: set[str],
    get: Getter,
    find: Finder,
) -> None:
    """Fill derived fields of ``record`` (a fresh dict) before it is validated and saved."""
    if object_name == "Contact":
        record["Name"] = " ".join(p for p in (record.get("FirstName"), record.get("LastName")) if p)
    elif object_name == "Opportunity":
        _opportunity(record, old, explicit)
    elif object_name == "OpportunityLineItem":
        _line_item(record, old, explicit, get, find)
    elif object_name == "PricebookEntry" and old is None:
        _pricebook_entry(record, get, find)


def _opportunity(record: Record, old: Record | None, explicit: set[str]) -> None:
    stage = record.get("StageName")
    known = _STAGES.get(str(stage).lower()) if stage else None
    stage_changed = old is None or old.get("StageName") != stage
    if known:
        probability, category, closed, won = known
        if stage_changed and "Probability" not in explicit:
            record["Probability"] = probability
        if stage_changed and "ForecastCategoryName" not in explicit:
            record["ForecastCategoryName"] = category
        record["IsClosed"], record["IsWon"] = closed, won
    else:
        record["IsClosed"], record["IsWon"] = False, False
        if record.get("ForecastCategoryName") is None:
            record["ForecastCategoryName"] = "Pipeline"
    category_name = record.get("ForecastCategoryName") or "Pipeline"
    record["ForecastCategory"] = _FORECAST_API.get(category_name, category_name)
    amount, chance = record.get("Amount"), record.get("Probability")
    record["ExpectedRevenue"] = (
        round(float(amount) * float(chance) / 100, 2)
        if amount is not None and chance is not None
        else None
    )
    close = record.get("CloseDate")
    if close:
        day = dt.date.fromisoformat(close)
        quarter = (day.month - 1) // 3 + 1
        record["FiscalYear"], record["FiscalQuarter"] = day.year, quarter
        record["Fiscal"] = f"{day.year} {quarter}"


def rollup_opportunity(opportunity: Record, items: list[Record]) -> Record:
    """The Opportunity fields that follow its live line items."""
    if not items:
        return {"HasOpportunityLineItem": False}
    return {
        "HasOpportunityLineItem": True,
        "Amount": round(sum(i.get("TotalPrice") or 0.0 for i in items), 2),
        "TotalOpportunityQuantity": sum(i.get("Quantity") or 0.0 for i in items),
    }


def _standard_pricebook(find: Finder) -> Record | None:
    books = find("Pricebook2", lambda r: bool(r.get("IsStandard")))
    return books[0] if books else None


def _line_item(
    record: Record, old: Record | None, explicit: set[str], get: Getter, find: Finder
) -> None:
    if old is None:
        opp = get("Opportunity", record["OpportunityId"]) if record.get("OpportunityId") else None
        if opp is None:
            return  # the required-field / reference checks report it
        entry = _resolve_entry(record, opp, get, find)
        product = get("Product2", entry["Product2Id"]) or {}
        record["PricebookEntryId"] = entry["Id"]
        record["Product2Id"] = entry["Product2Id"]
        record["ProductCode"] = product.get("ProductCode")
        record["ListPrice"] = entry.get("UnitPrice")
        record["Name"] = f"{opp.get('Name')} {product.get('Name')}"
        if "UnitPrice" in explicit and "TotalPrice" in explicit:
            raise _integrity("TotalPrice (cannot specify both unit price and total price)")
        if "UnitPrice" not in explicit and "TotalPrice" not in explicit:
            record["UnitPrice"] = entry.get("UnitPrice")
    quantity = record.get("Quantity")
    if quantity is None:
        return
    if "TotalPrice" in explicit and "UnitPrice" not in explicit:
        total = record.get("TotalPrice") or 0.0
        record["UnitPrice"] = round(total / quantity, 2) if quantity else 0.0
        record["Subtotal"] = total
        return
    unit = record.get("UnitPrice") or 0.0
    discount = record.get("Discount") or 0.0
    record["Subtotal"] = round(unit * quantity, 2)
    record["TotalPrice"] = round(unit * quantity * (1 - discount / 100), 2)


def _resolve_entry(record: Record, opp: Record, get: Getter, find: Finder) -> Record:
    entry_id, product_id = record.get("PricebookEntryId"), record.get("Product2Id")
    if entry_id:
        entry = get("PricebookEntry", entry_id)
    elif product_id:
        book_id = opp.get("Pricebook2Id") or (_standard_pricebook(find) or {}).get("Id")
        matches = find(
            "PricebookEntry",
            lambda r: r.get("Product2Id") == product_id and r.get("Pricebook2Id") == book_id,
        )
        entry = matches[0] if matches else None
    else:
        entry = None
    if entry is None:
        raise _integrity(
            "PricebookEntryId, unknown (versions 3.0 and higher must specify pricebook entry id, "
            "others must specify product id)",
            ["PricebookEntryId"],
        )
    if not entry.get("IsActive"):
        raise _integrity("PricebookEntryId (pricebook entry is inactive)", ["PricebookEntryId"])
    if opp.get("Pricebook2Id") and opp["Pricebook2Id"] != entry.get("Pricebook2Id"):
        raise _integrity(
            "PricebookEntryId (pricebook entry is in a different pricebook than the one "
            "assigned to the opportunity)",
            ["PricebookEntryId"],
        )
    return entry


def _pricebook_entry(record: Record, get: Getter, find: Finder) -> None:
    book_id, product_id = record.get("Pricebook2Id"), record.get("Product2Id")
    if not book_id or not product_id:
        return
    book, product = get("Pricebook2", book_id), get("Product2", product_id)
    if book is None or product is None:
        return
    record["Name"] = product.get("Name")
    record["ProductCode"] = product.get("ProductCode")
    same = find(
        "PricebookEntry",
        lambda r: r.get("Pricebook2Id") == book_id and r.get("Product2Id") == product_id,
    )
    if same:
        raise SalesforceApiError.one(
            400, "DUPLICATE_VALUE", "This price definition already exists in this price book"
        )
    if not book.get("IsStandard"):
        standard = _standard_pricebook(find)
        standard_entries = find(
            "PricebookEntry",
            lambda r: (
                standard is not None
                and r.get("Pricebook2Id") == standard["Id"]
                and r.get("Product2Id") == product_id
            ),
        )
        if not standard_entries:
            raise SalesforceApiError.one(
                400, "STANDARD_PRICE_NOT_DEFINED", "No standard price defined for this product"
            )
        if record.get("UseStandardPrice"):
            record["UnitPrice"] = standard_entries[0].get("UnitPrice")
