"""Stored records as NetSuite's REST record service returns them.

Shape from Oracle's GET salesOrder sample (tutorial case 3): a ``links`` array with ``self``,
``id`` as a string, references as ``{"links": [...], "id": "1", "refName": "USA"}``, and
sublists collapsed to a link unless ``expandSubResources=true`` is asked for.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from syncwright.sandbox.netsuite._rules import CREDIT_MEMO_STATUS, INVOICE_STATUS, Lookup
from syncwright.sandbox.netsuite._schema import SELECT_OPTIONS, FieldSpec, RecordType, SublistSpec

RECORD_ROOT = "/services/rest/record/v1"


def link(href: str, rel: str = "self") -> dict[str, str]:
    return {"rel": rel, "href": href}


def json_value(value: Any) -> Any:
    if isinstance(value, Decimal):
        return float(value)
    return value


def ref_name(rtype: str, rec: dict[str, Any]) -> str:
    if rtype == "customer":
        if rec.get("isPerson"):
            return f"{rec.get('firstName', '')} {rec.get('lastName', '')}".strip()
        return str(rec.get("companyName") or rec.get("entityId") or rec["id"])
    if rtype in ("serviceSaleItem", "nonInventorySaleItem", "salesTaxItem"):
        return str(rec.get("itemId") or rec["id"])
    if rtype == "salesOrder":
        return f"Sales Order #{rec.get('tranId')}"
    if rtype == "invoice":
        return f"Invoice #{rec.get('tranId')}"
    if rtype == "customerPayment":
        return f"Payment #{rec.get('tranId')}"
    if rtype == "creditMemo":
        return f"Credit Memo #{rec.get('tranId')}"
    return str(rec.get("name") or rec["id"])


class Renderer:
    def __init__(self, db: Lookup, base_url: str) -> None:
        self.db = db
        self.root = base_url.rstrip("/") + RECORD_ROOT

    def record_url(self, rtype: str, rid: str) -> str:
        return f"{self.root}/{rtype}/{rid}"

    def ref(self, spec: FieldSpec, rid: str) -> dict[str, Any]:
        for target in spec.refs:
            found = self.db.raw(target, rid)
            if found is not None:
                return {
                    "links": [link(self.record_url(target, rid))],
                    "id": rid,
                    "refName": ref_name(target, found),
                }
        return {"links": [], "id": rid}

    def _field(self, spec: FieldSpec | None, value: Any) -> Any:
        if spec is not None and spec.kind == "ref" and value is not None:
            return self.ref(spec, value)
        if spec is not None and spec.kind == "select" and value is not None:
            return {"id": value, "refName": SELECT_OPTIONS[spec.name].get(value, value)}
        return json_value(value)

    def record(self, rt: RecordType, rec: dict[str, Any], *, expand: bool) -> dict[str, Any]:
        url = self.record_url(rt.name, rec["id"])
        out: dict[str, Any] = {"links": [link(url)]}
        for key, value in rec.items():
            sub = rt.sublist(key)
            if sub is not None:
                out[sub.name] = (
                    self.sublist(rt, rec, sub) if expand else {"links": [link(f"{url}/{sub.name}")]}
                )
                continue
            if key == "status" and rt.name != "salesOrder" and value is not None:
                names = CREDIT_MEMO_STATUS if rt.name == "creditMemo" else INVOICE_STATUS
                out[key] = {"id": value, "refName": names.get(value, value)}
                continue
            out[key] = self._field(rt.field(key), value)
        for sub in rt.sublists:
            if sub.name not in out:
                out[sub.name] = (
                    self.sublist(rt, rec, sub) if expand else {"links": [link(f"{url}/{sub.name}")]}
                )
        return out

    def sublist(self, rt: RecordType, rec: dict[str, Any], sub: SublistSpec) -> dict[str, Any]:
        url = f"{self.record_url(rt.name, rec['id'])}/{sub.name}"
        lines = rec.get(sub.name) or []
        items = []
        for line in lines:
            item: dict[str, Any] = {"links": [link(f"{url}/{line['line']}")]}
            for key, value in line.items():
                item[key] = self._field(sub.field(key), value)
            items.append(item)
        return {
            "links": [link(url)],
            "count": len(items),
            "hasMore": False,
            "items": items,
            "offset": 0,
            "totalResults": len(items),
        }
