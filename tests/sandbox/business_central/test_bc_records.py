"""The API v2.0 resources the connector uses, driven with plain requests and an msal token:
customers, items, salesOrders (+ lines, deep insert, $expand), salesInvoices (post),
salesCreditMemos, customerPayments (journal post), $filter / paging / ETags, errors as
Microsoft documents them, and Microsoft's own example request bodies."""

from __future__ import annotations

from typing import Any

import requests

from tests._vendor import vendor_json
from tests.sandbox.business_central.conftest import BcEnv

DOC_ERRORS = {
    c["code"] for c in vendor_json("business_central/odata-error-codes.v2.0.json")["codes"]
}


def _ok(answer: requests.Response, status: int = 200) -> Any:
    assert answer.status_code == status, answer.text
    return answer.json() if answer.content else None


def _error(answer: requests.Response, status: int, code: str) -> str:
    assert answer.status_code == status, answer.text
    error = answer.json()["error"]
    assert error["code"] == code
    assert code in DOC_ERRORS or code in {"Application_TooManyRequests", "NoEnvironment"}
    message: str = error["message"]
    return message


def _customer(s: requests.Session, bc: BcEnv, number: str, **extra: Any) -> dict[str, Any]:
    body = {"number": number, "displayName": f"Customer {number}", **extra}
    created: dict[str, Any] = _ok(s.post(f"{bc.company}/customers", json=body), 201)
    return created


def _item(s: requests.Session, bc: BcEnv, number: str) -> dict[str, Any]:
    found = _ok(s.get(f"{bc.company}/items", params={"$filter": f"number eq '{number}'"}))
    item: dict[str, Any] = found["value"][0]
    return item


def test_customer_lifecycle_with_etags(bc: BcEnv) -> None:
    s = bc.authed()
    created = _customer(s, bc, "SW-1", email="ap@example.com")
    assert created["@odata.etag"].startswith('W/"')
    assert created["type"] == "Company" and created["balanceDue"] == 0
    url = f"{bc.company}/customers({created['id']})"
    got = s.get(url)
    assert _ok(got)["displayName"] == "Customer SW-1"
    assert got.headers["ETag"] == created["@odata.etag"]
    # PATCH needs If-Match; a stale etag is "another user changed the record".
    _error(s.patch(url, json={"displayName": "X"}), 400, "BadRequest_InvalidToken")
    updated = _ok(
        s.patch(url, json={"displayName": "Renamed"}, headers={"If-Match": created["@odata.etag"]})
    )
    assert updated["displayName"] == "Renamed" and updated["@odata.etag"] != created["@odata.etag"]
    assert updated["lastModifiedDateTime"] > created["lastModifiedDateTime"]
    _error(
        s.patch(url, json={"displayName": "Y"}, headers={"If-Match": created["@odata.etag"]}),
        409,
        "Request_EntityChanged",
    )
    _ok(s.patch(url, json={"email": "new@example.com"}, headers={"If-Match": "*"}))
    # read-only and unknown properties are refused, never ignored
    _error(
        s.patch(url, json={"balanceDue": 5}, headers={"If-Match": "*"}),
        400,
        "BadRequest_InvalidOperation",
    )
    _error(s.patch(url, json={"nickname": "x"}, headers={"If-Match": "*"}), 400, "BadRequest")
    # customer numbers are unique
    _error(
        s.post(f"{bc.company}/customers", json={"number": "SW-1", "displayName": "Dup"}),
        400,
        "Internal_EntityWithSameKeyExists",
    )
    _ok(s.delete(url, headers={"If-Match": "*"}), 204)
    _error(s.get(url), 404, "BadRequest_NotFound")


def test_filter_orderby_and_server_paging(bc: BcEnv) -> None:
    s = bc.authed()
    made = [_customer(s, bc, f"P-{n}") for n in range(5)]
    since = made[1]["lastModifiedDateTime"]
    params = {"$filter": f"lastModifiedDateTime gt {since} and startswith ne 'x'"}
    _error(s.get(f"{bc.company}/customers", params=params), 400, "BadRequest_NotFound")
    params = {"$filter": f"lastModifiedDateTime gt {since}", "$orderby": "lastModifiedDateTime"}
    first = _ok(s.get(f"{bc.company}/customers", params=params))
    # page size is 3 in this emulator: a nextLink carries the rest
    assert [c["number"] for c in first["value"]] == ["P-2", "P-3", "P-4"]
    assert "@odata.nextLink" not in first
    everything = _ok(s.get(f"{bc.company}/customers", params={"$orderby": "number"}))
    assert len(everything["value"]) == 3
    rest = _ok(s.get(everything["@odata.nextLink"]))
    numbers = [c["number"] for c in everything["value"] + rest["value"]]
    assert numbers == sorted(["10000"] + [f"P-{n}" for n in range(5)])
    picked = _ok(
        s.get(
            f"{bc.company}/customers",
            params={"$filter": "number eq 'P-3' or number eq 'P-4'", "$select": "number"},
        )
    )
    assert sorted(c["number"] for c in picked["value"]) == ["P-3", "P-4"]
    assert set(picked["value"][0]) == {"number", "@odata.etag"}


def test_sales_order_with_lines(bc: BcEnv) -> None:
    s = bc.authed()
    customer = _customer(s, bc, "SO-1")
    # Microsoft's own create example (dynamics_salesorder_create.md), customer and terms ours
    example = vendor_json("business_central/api-v2.0.resources-and-examples.json")
    body = dict(example["operations"]["salesOrder_create"]["examples"][0]["json"])
    body.pop("paymentTermsId")
    body["customerNumber"] = "SO-1"
    body["externalDocumentNumber"] = "sub_1"
    body["salesOrderLines"] = [{"lineObjectNumber": "SW-STD", "quantity": 3}]
    order = _ok(s.post(f"{bc.company}/salesOrders", json=body), 201)
    assert order["customerId"] == customer["id"] and order["customerName"] == "Customer SO-1"
    assert order["status"] == "Draft" and order["currencyCode"] == "GBP"
    assert order["totalAmountExcludingTax"] == 37.02
    lines_url = f"{bc.company}/salesOrders({order['id']})/salesOrderLines"
    line = _ok(
        s.post(
            lines_url,
            json={"itemId": _item(s, bc, "SW-SEAT")["id"], "quantity": 2, "unitPrice": 9.5},
        ),
        201,
    )
    assert line["amountExcludingTax"] == 19
    expanded = _ok(
        s.get(f"{bc.company}/salesOrders({order['id']})", params={"$expand": "salesOrderLines"})
    )
    assert [ln["lineObjectNumber"] for ln in expanded["salesOrderLines"]] == ["SW-STD", "SW-SEAT"]
    assert expanded["totalAmountIncludingTax"] == 56.02
    found = _ok(
        s.get(
            f"{bc.company}/salesOrders",
            params={"$filter": "externalDocumentNumber eq 'sub_1'", "$expand": "salesOrderLines"},
        )
    )
    assert found["value"][0]["id"] == order["id"] and len(found["value"][0]["salesOrderLines"]) == 2
    one = f"{lines_url}({line['id']})"
    _ok(
        s.patch(
            one,
            json={"invoiceQuantity": 0, "shipQuantity": 0},
            headers={"If-Match": line["@odata.etag"]},
        )
    )
    _error(
        s.post(lines_url, json={"lineObjectNumber": "NOPE"}), 400, "Internal_InvalidTableRelation"
    )
    _error(
        s.post(lines_url, json={"lineObjectNumber": "SW-OLD"}), 400, "Application_DialogException"
    )
    message = _error(
        s.post(f"{bc.company}/salesOrders", json={"orderDate": "2026-01-01"}),
        400,
        "Application_DialogException",
    )
    assert "A customerNumber or a customerID must be provided." in message
    _error(
        s.get(f"{bc.company}/salesOrders", params={"$expand": "customer"}),
        400,
        "BadRequest_NotFound",
    )


def test_invoice_post_payment_and_credit_memo(bc: BcEnv) -> None:
    s = bc.authed()
    areas = _ok(s.get(f"{bc.company}/taxAreas", params={"$filter": "code eq 'UK-STD'"}))["value"]
    customer = _customer(s, bc, "INV-1", taxLiable=True, taxAreaId=areas[0]["id"])
    invoice = _ok(
        s.post(
            f"{bc.company}/salesInvoices",
            json={
                "customerId": customer["id"],
                "externalDocumentNumber": "in_1",
                "salesInvoiceLines": [{"lineObjectNumber": "SW-STD", "quantity": 3}],
            },
        ),
        201,
    )
    assert (
        invoice["totalAmountExcludingTax"],
        invoice["totalTaxAmount"],
        invoice["totalAmountIncludingTax"],
    ) == (37.02, 7.4, 44.42)
    assert invoice["status"] == "Draft" and invoice["remainingAmount"] == 0
    url = f"{bc.company}/salesInvoices({invoice['id']})"
    _ok(s.post(f"{url}/Microsoft.NAV.post"), 204)
    posted = _ok(s.get(url))
    assert posted["status"] == "Open" and posted["remainingAmount"] == 44.42
    assert _ok(s.get(f"{bc.company}/customers({customer['id']})"))["balanceDue"] == 44.42
    _error(
        s.patch(url, json={"externalDocumentNumber": "x"}, headers={"If-Match": "*"}),
        400,
        "Application_DialogException",
    )
    # a credit memo applied to the invoice lowers what is due once posted
    memo = _ok(
        s.post(
            f"{bc.company}/salesCreditMemos",
            json={
                "customerId": customer["id"],
                "invoiceId": invoice["id"],
                "externalDocumentNumber": "cn_1",
                "salesCreditMemoLines": [{"lineObjectNumber": "SW-SEAT", "quantity": 1}],
            },
        ),
        201,
    )
    assert memo["totalAmountIncludingTax"] == 12
    _ok(s.post(f"{bc.company}/salesCreditMemos({memo['id']})/Microsoft.NAV.post"), 204)
    assert _ok(s.get(url))["remainingAmount"] == 32.42
    # Microsoft's customerPayment example body, pointed at our customer and invoice
    example = vendor_json("business_central/api-v2.0.resources-and-examples.json")
    body = dict(example["operations"]["customerPayment_create"]["examples"][0]["json"])
    for key in ("contactId", "lineNumber", "lastModifiedDateTime", "documentNumber", "customerId"):
        body.pop(key)
    body.update(
        customerNumber="INV-1",
        appliesToInvoiceNumber=posted["number"],
        amount=32.42,
        externalDocumentNumber="pay_1",
    )
    body.pop("appliesToInvoiceId")
    payment = _ok(s.post(f"{bc.company}/customerPayments", json=body), 201)
    assert payment["appliesToInvoiceId"] == invoice["id"] and payment["lineNumber"] == 10000
    found = _ok(
        s.get(
            f"{bc.company}/customerPayments",
            params={"$filter": "externalDocumentNumber eq 'pay_1'"},
        )
    )
    assert [p["id"] for p in found["value"]] == [payment["id"]]
    _ok(
        s.post(f"{bc.company}/customerPaymentJournals({payment['journalId']})/Microsoft.NAV.post"),
        204,
    )
    paid = _ok(s.get(url))
    assert paid["status"] == "Paid" and paid["remainingAmount"] == 0
    assert (
        _ok(s.get(f"{bc.company}/customerPayments"))["value"] == []
    )  # posted lines leave the journal


def test_invoice_cancel_and_draft_delete(bc: BcEnv) -> None:
    s = bc.authed()
    _customer(s, bc, "CAN-1")
    lines = [{"lineObjectNumber": "SW-PRO", "quantity": 1}]
    draft = _ok(
        s.post(
            f"{bc.company}/salesInvoices",
            json={"customerNumber": "CAN-1", "salesInvoiceLines": lines},
        ),
        201,
    )
    _ok(s.delete(f"{bc.company}/salesInvoices({draft['id']})", headers={"If-Match": "*"}), 204)
    invoice = _ok(
        s.post(
            f"{bc.company}/salesInvoices",
            json={"customerNumber": "CAN-1", "salesInvoiceLines": lines},
        ),
        201,
    )
    url = f"{bc.company}/salesInvoices({invoice['id']})"
    _error(s.post(f"{url}/Microsoft.NAV.cancel"), 400, "Application_DialogException")  # a draft
    _ok(s.post(f"{url}/Microsoft.NAV.post"), 204)
    _ok(s.post(f"{url}/Microsoft.NAV.cancel"), 204)
    assert _ok(s.get(url))["status"] == "Canceled"
    _error(s.delete(url, headers={"If-Match": "*"}), 400, "Application_DialogException")


def test_companies_and_unknown_segments(bc: BcEnv) -> None:
    s = bc.authed()
    company = _ok(s.get(bc.company))
    assert company["name"] == "CRONUS UK Ltd."
    _error(s.post(f"{bc.api}/companies", json={}), 405, "BadRequest_MethodNotAllowed")
    _error(s.get(f"{bc.company}/spaceships"), 404, "BadRequest_ResourceNotFound")
    _error(
        s.get(f"{bc.api}/companies(00000000-0000-0000-0000-000000000001)/customers"),
        404,
        "Internal_CompanyNotFound",
    )
    _error(s.post(f"{bc.company}/taxAreas", json={}), 405, "BadRequest_MethodNotAllowed")


def test_line_delete_payment_patch_and_credit_memo_cancel(bc: BcEnv) -> None:
    """The rest of what the connector does: replace a draft's lines, correct and remove a
    payment journal line, cancel a posted credit memo (the invoice is due again)."""
    s = bc.authed()
    _customer(s, bc, "REST-1")
    lines = [{"lineObjectNumber": "SW-PRO", "quantity": 1}, {"lineObjectNumber": "SW-SEAT"}]
    invoice = _ok(
        s.post(
            f"{bc.company}/salesInvoices",
            json={"customerNumber": "REST-1", "salesInvoiceLines": lines},
        ),
        201,
    )
    url = f"{bc.company}/salesInvoices({invoice['id']})"
    current = _ok(s.get(f"{url}/salesInvoiceLines"))["value"]
    seat = current[1]
    _ok(
        s.delete(
            f"{url}/salesInvoiceLines({seat['id']})", headers={"If-Match": seat["@odata.etag"]}
        ),
        204,
    )
    assert _ok(s.get(url))["totalAmountIncludingTax"] == 50
    _ok(s.post(f"{url}/Microsoft.NAV.post"), 204)
    payment = _ok(
        s.post(
            f"{bc.company}/customerPayments",
            json={"customerNumber": "REST-1", "amount": 10, "appliesToInvoiceId": invoice["id"]},
        ),
        201,
    )
    pay_url = f"{bc.company}/customerPayments({payment['id']})"
    corrected = _ok(
        s.patch(pay_url, json={"amount": 20}, headers={"If-Match": payment["@odata.etag"]})
    )
    assert corrected["amount"] == 20
    _ok(s.delete(pay_url, headers={"If-Match": corrected["@odata.etag"]}), 204)
    memo = _ok(
        s.post(
            f"{bc.company}/salesCreditMemos",
            json={
                "customerNumber": "REST-1",
                "invoiceNumber": invoice["number"],
                "salesCreditMemoLines": [{"lineObjectNumber": "SW-SEAT"}],
            },
        ),
        201,
    )
    memo_url = f"{bc.company}/salesCreditMemos({memo['id']})"
    _ok(s.post(f"{memo_url}/Microsoft.NAV.post"), 204)
    assert _ok(s.get(url))["remainingAmount"] == 40
    _ok(s.post(f"{memo_url}/Microsoft.NAV.cancel"), 204)
    assert _ok(s.get(memo_url))["status"] == "Canceled"
    assert _ok(s.get(url))["remainingAmount"] == 50
