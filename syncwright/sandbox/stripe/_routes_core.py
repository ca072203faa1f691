"""Customers, payment methods, products and prices.

Docs: https://docs.stripe.com/api/customers, https://docs.stripe.com/api/payment_methods,
https://docs.stripe.com/api/products, https://docs.stripe.com/api/prices.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response

from . import _billing as bl
from . import _objects as ob
from . import _subscriptions as subs
from ._errors import StripeAPIError, invalid_request, parameter_missing, resource_missing
from ._forms import Params, apply_metadata, initial_metadata
from ._routing import Call, begin, deleted, json_response
from ._state import TEST_PAYMENT_METHODS
from ._views import created_filter, fields_match

router = APIRouter()

ADDRESS_KEYS = ("city", "country", "line1", "line2", "postal_code", "state")


def _address(p: Params) -> dict[str, Any] | None:
    sub = p.sub("address")
    if sub is None:
        return None
    return {k: sub.text(k) for k in ADDRESS_KEYS}


def _customer_or_tombstone(call: Call, cid: str) -> dict[str, Any]:
    st = call.state
    found = st.find("customer", cid)
    if found is None:
        raise resource_missing("customer", cid)
    return found


# -- customers -------------------------------------------------------------------------------


@router.post("/v1/customers")
def create_customer(request: Request) -> Response:
    call = begin(request)
    p, st = call.params, call.state
    fields: dict[str, Any] = {
        "email": p.text("email"),
        "name": p.text("name"),
        "description": p.text("description"),
        "phone": p.text("phone"),
        "address": _address(p),
        "preferred_locales": p.text_list("preferred_locales"),
        "tax_exempt": p.choice("tax_exempt", ("none", "exempt", "reverse")),
        "balance": p.integer("balance") or 0,
    }
    metadata = p.metadata()
    payment_method = p.text("payment_method")
    settings = p.sub("invoice_settings")
    default_pm = settings.text("default_payment_method") if settings else None
    if settings:
        settings.ignore("custom_fields", "footer", "rendering_options")
    clock_id = p.text("test_clock")
    p.ignore("source", "shipping", "tax", "tax_id_data", "invoice_prefix", "next_invoice_sequence")
    p.finish()
    with st.lock:
        if clock_id is not None:
            st.get("test_clock", clock_id, param="test_clock")
        at = st.clock_now(clock_id)
        cust = ob.customer(
            ob.new_id("cus"),
            at,
            test_clock=clock_id,
            metadata=initial_metadata(metadata),
            **fields,
        )
        # Resolve test tokens first so customer.created already shows the default method,
        # then attach (payment_method.attached follows customer.created, as at Stripe).
        resolved: dict[str, str] = {}
        for token, param in (
            (payment_method, "payment_method"),
            (default_pm, "invoice_settings[default_payment_method]"),
        ):
            if token and token not in resolved:
                resolved[token] = bl.resolve_payment_method(st, token, None, param=param)
        if default_pm:
            cust["invoice_settings"]["default_payment_method"] = resolved[default_pm]
        st.put("customer", cust)
        st.emit("customer.created", "customer", cust, call.ctx)
        for pm_id in resolved.values():
            bl.attach_payment_method(st, pm_id, cust["id"], call.ctx)
        return call.ok("customer", cust)


@router.get("/v1/customers/{cid}")
def retrieve_customer(request: Request, cid: str) -> Response:
    call = begin(request)
    call.params.finish()
    st = call.state
    with st.lock:
        if cid in st.deleted_customers:
            return json_response(st.deleted_customers[cid])
        return call.ok("customer", _customer_or_tombstone(call, cid))


@router.post("/v1/customers/{cid}")
def update_customer(request: Request, cid: str) -> Response:
    call = begin(request)
    p, st = call.params, call.state
    updates: dict[str, Any] = {}
    for key in ("email", "name", "description", "phone"):
        if p.has(key):
            updates[key] = p.text(key)
    if p.has("address"):
        updates["address"] = None if p.is_cleared("address") else _address(p)
        p.ignore("address")
    if p.has("preferred_locales"):
        updates["preferred_locales"] = p.text_list("preferred_locales") or []
    if p.has("tax_exempt"):
        updates["tax_exempt"] = p.choice("tax_exempt", ("none", "exempt", "reverse"))
    if p.has("balance"):
        updates["balance"] = p.integer("balance") or 0
    metadata = p.metadata()
    settings = p.sub("invoice_settings")
    default_pm: str | None = None
    set_default = False
    if settings is not None:
        set_default = settings.has("default_payment_method")
        default_pm = settings.text("default_payment_method")
        settings.ignore("custom_fields", "footer", "rendering_options")
    p.ignore(
        "source", "shipping", "tax", "invoice_prefix", "next_invoice_sequence", "default_source"
    )
    p.finish()
    with st.lock:
        cust = _customer_or_tombstone(call, cid)
        before = st.render("customer", cust)
        cust.update(updates)
        apply_metadata(cust["metadata"], metadata)
        if set_default:
            cust["invoice_settings"]["default_payment_method"] = (
                bl.resolve_payment_method(
                    st, default_pm, cid, param="invoice_settings[default_payment_method]"
                )
                if default_pm
                else None
            )
        return call.updated("customer", cust, before)


@router.delete("/v1/customers/{cid}")
def delete_customer(request: Request, cid: str) -> Response:
    call = begin(request)
    call.params.finish()
    st = call.state
    with st.lock:
        cust = _customer_or_tombstone(call, cid)
        at = st.customer_now(cid)
        # Deleting a customer cancels its subscriptions immediately.
        for sub in list(st.objects["subscription"].values()):
            if sub["customer"] == cid and sub["status"] not in ("canceled", "incomplete_expired"):
                subs.end_subscription(st, sub, call.ctx, at=at)
        st.emit("customer.deleted", "customer", cust, call.ctx)
        st.remove("customer", cid)
        st.deleted_customers[cid] = deleted(cid, "customer")
        return json_response(st.deleted_customers[cid])


@router.get("/v1/customers")
def list_customers(request: Request) -> Response:
    call = begin(request)
    p = call.params
    email = p.text("email")
    clock = p.text("test_clock")
    created = created_filter(p)
    return call.list_where(
        "customer",
        "/v1/customers",
        lambda c: fields_match(c, email=email, test_clock=clock) and created(c),
    )


# -- payment methods -------------------------------------------------------------------------


@router.get("/v1/payment_methods/{pmid}")
def retrieve_payment_method(request: Request, pmid: str) -> Response:
    return begin(request).retrieve("payment_method", pmid)


@router.post("/v1/payment_methods/{pmid}/attach")
def attach_payment_method(request: Request, pmid: str) -> Response:
    call = begin(request)
    p, st = call.params, call.state
    customer_id = p.req_text("customer")
    p.finish()
    with st.lock:
        st.get("customer", customer_id, param="customer")
        if pmid in TEST_PAYMENT_METHODS:
            pmid = bl.resolve_payment_method(st, pmid, None, param="payment_method")
        pm = bl.attach_payment_method(st, pmid, customer_id, call.ctx)
        return call.ok("payment_method", pm)


@router.post("/v1/payment_methods/{pmid}/detach")
def detach_payment_method(request: Request, pmid: str) -> Response:
    call = begin(request)
    call.params.finish()
    st = call.state
    with st.lock:
        pm = st.get("payment_method", pmid)
        if pm["customer"] is None:
            raise invalid_request("The payment method you provided is not attached to a customer.")
        cust = st.find("customer", pm["customer"])
        if cust is not None and cust["invoice_settings"]["default_payment_method"] == pmid:
            cust["invoice_settings"]["default_payment_method"] = None
        pm["customer"] = None
        st.emit("payment_method.detached", "payment_method", pm, call.ctx)
        return call.ok("payment_method", pm)


@router.get("/v1/customers/{cid}/payment_methods")
def list_customer_payment_methods(request: Request, cid: str) -> Response:
    call = begin(request)
    p, st = call.params, call.state
    p.ignore("type", "allow_redisplay")
    with st.lock:
        st.get("customer", cid)
        return call.list_where(
            "payment_method",
            f"/v1/customers/{cid}/payment_methods",
            lambda pm: pm["customer"] == cid,
            kind_name="PaymentMethod",
        )


# -- products --------------------------------------------------------------------------------


@router.post("/v1/products")
def create_product(request: Request) -> Response:
    call = begin(request)
    p, st = call.params, call.state
    pid = p.text("id")
    fields: dict[str, Any] = {
        "name": p.req_text("name"),
        "description": p.text("description"),
        "active": p.boolean("active"),
        "images": p.text_list("images"),
        "shippable": p.boolean("shippable"),
        "statement_descriptor": p.text("statement_descriptor"),
        "tax_code": p.text("tax_code"),
        "unit_label": p.text("unit_label"),
        "url": p.text("url"),
    }
    if fields["active"] is None:
        fields["active"] = True
    metadata = p.metadata()
    default_price = p.sub("default_price_data")
    price_fields: dict[str, Any] | None = None
    if default_price is not None:
        price_fields = _price_data(default_price)
    p.ignore("marketing_features", "package_dimensions", "type")
    p.finish()
    with st.lock:
        if pid is not None and pid in st.objects["product"]:
            raise StripeAPIError(
                400, "Product already exists.", code="resource_already_exists", param="id"
            )
        at = st.wall_now()
        prod = ob.product(
            pid or ob.new_id("prod"),
            at,
            metadata=initial_metadata(metadata),
            **fields,
        )
        st.put("product", prod)
        st.emit("product.created", "product", prod, call.ctx)
        if price_fields is not None:
            price = ob.price(ob.new_id("price"), at, product=prod["id"], **price_fields)
            st.put("price", price)
            st.emit("price.created", "price", price, call.ctx)
            before = st.render("product", prod)
            prod["default_price"] = price["id"]
            bl.emit_update(st, "product.updated", "product", prod, before, call.ctx)
        return call.ok("product", prod)


@router.get("/v1/products/{pid}")
def retrieve_product(request: Request, pid: str) -> Response:
    return begin(request).retrieve("product", pid)


@router.post("/v1/products/{pid}")
def update_product(request: Request, pid: str) -> Response:
    call = begin(request)
    p, st = call.params, call.state
    updates: dict[str, Any] = {}
    for key in ("description", "statement_descriptor", "tax_code", "unit_label", "url"):
        if p.has(key):
            updates[key] = p.text(key)
    if p.has("name"):
        updates["name"] = p.req_text("name")
    for key in ("active", "shippable"):
        if p.has(key):
            updates[key] = p.boolean(key)
    if p.has("images"):
        updates["images"] = p.text_list("images") or []
    default_price = p.text("default_price") if p.has("default_price") else None
    set_default = "default_price" in p.raw
    metadata = p.metadata()
    p.ignore("marketing_features", "package_dimensions")
    p.finish()
    with st.lock:
        prod = st.get("product", pid)
        if default_price is not None:
            price = st.get("price", default_price, param="default_price")
            if price["product"] != pid:
                raise invalid_request(
                    "The default price must belong to this product.", param="default_price"
                )
        before = st.render("product", prod)
        prod.update(updates)
        if set_default:
            prod["default_price"] = default_price
        apply_metadata(prod["metadata"], metadata)
        prod["updated"] = st.wall_now()
        return call.updated("product", prod, before)


@router.delete("/v1/products/{pid}")
def delete_product(request: Request, pid: str) -> Response:
    call = begin(request)
    call.params.finish()
    st = call.state
    with st.lock:
        prod = st.get("product", pid)
        if any(price["product"] == pid for price in st.objects["price"].values()):
            raise invalid_request(
                "This product cannot be deleted because it has one or more user-created prices."
            )
        st.emit("product.deleted", "product", prod, call.ctx)
        st.remove("product", pid)
        return json_response(deleted(pid, "product"))


@router.get("/v1/products")
def list_products(request: Request) -> Response:
    call = begin(request)
    p = call.params
    active = p.boolean("active")
    ids = p.text_list("ids")
    created = created_filter(p)
    p.ignore("shippable", "url")
    return call.list_where(
        "product",
        "/v1/products",
        lambda o: fields_match(o, active=active) and (ids is None or o["id"] in ids) and created(o),
    )


# -- prices ----------------------------------------------------------------------------------


def _price_data(p: Params) -> dict[str, Any]:
    fields: dict[str, Any] = {"currency": p.req_text("currency").lower()}
    fields["unit_amount"] = p.integer("unit_amount", minimum=0)
    decimal = p.text("unit_amount_decimal")
    if fields["unit_amount"] is None and decimal is not None:
        try:
            fields["unit_amount"] = int(decimal)
        except ValueError:
            raise StripeAPIError(
                400,
                "The emulator supports whole-number unit_amount_decimal only.",
                param=p.name("unit_amount_decimal"),
                saved=False,
            ) from None
    if fields["unit_amount"] is None:
        raise StripeAPIError(
            400,
            "Missing required param: unit_amount.",
            code="parameter_missing",
            param=p.name("unit_amount"),
            saved=False,
        )
    recurring = p.sub("recurring")
    if recurring is not None:
        fields["recurring"] = {
            "interval": recurring.choice(
                "interval", ("day", "week", "month", "year"), required=True
            ),
            "interval_count": recurring.integer("interval_count", minimum=1) or 1,
            "trial_period_days": recurring.integer("trial_period_days", minimum=0),
        }
        recurring.ignore("usage_type", "meter", "aggregate_usage")
    fields["tax_behavior"] = p.choice("tax_behavior", ("inclusive", "exclusive", "unspecified"))
    return fields


@router.post("/v1/prices")
def create_price(request: Request) -> Response:
    call = begin(request)
    p, st = call.params, call.state
    product_id = p.text("product")
    product_data = p.sub("product_data")
    prod_fields: dict[str, Any] | None = None
    if product_data is not None:
        prod_fields = {"name": product_data.req_text("name")}
        prod_meta = product_data.metadata()
        prod_fields["metadata"] = initial_metadata(prod_meta)
        product_data.ignore("active", "statement_descriptor", "tax_code", "unit_label", "id")
    if product_id is None and product_data is None:
        raise parameter_missing("product")
    fields = _price_data(p)
    fields["nickname"] = p.text("nickname")
    fields["lookup_key"] = p.text("lookup_key")
    active = p.boolean("active")
    fields["active"] = True if active is None else active
    metadata = p.metadata()
    transfer_lookup_key = p.boolean("transfer_lookup_key")
    p.ignore(
        "billing_scheme",
        "custom_unit_amount",
        "tiers",
        "tiers_mode",
        "transform_quantity",
        "currency_options",
    )
    p.finish()
    with st.lock:
        at = st.wall_now()
        if product_id is not None:
            st.get("product", product_id, param="product")
        else:
            assert prod_fields is not None
            prod = ob.product(ob.new_id("prod"), at, **prod_fields)
            st.put("product", prod)
            st.emit("product.created", "product", prod, call.ctx)
            product_id = prod["id"]
        if fields["lookup_key"]:
            for other in st.objects["price"].values():
                if other["lookup_key"] == fields["lookup_key"]:
                    if not transfer_lookup_key:
                        raise invalid_request(
                            f"A price (`{other['id']}`) already uses that lookup key.",
                            param="lookup_key",
                        )
                    before = st.render("price", other)
                    other["lookup_key"] = None
                    bl.emit_update(st, "price.updated", "price", other, before, call.ctx)
        price = ob.price(
            ob.new_id("price"),
            at,
            product=product_id,
            metadata=initial_metadata(metadata),
            **fields,
        )
        st.put("price", price)
        st.emit("price.created", "price", price, call.ctx)
        return call.ok("price", price)


@router.get("/v1/prices/{pid}")
def retrieve_price(request: Request, pid: str) -> Response:
    return begin(request).retrieve("price", pid)


@router.post("/v1/prices/{pid}")
def update_price(request: Request, pid: str) -> Response:
    call = begin(request)
    p, st = call.params, call.state
    updates: dict[str, Any] = {}
    if p.has("active"):
        updates["active"] = p.boolean("active")
    for key in ("nickname", "lookup_key"):
        if p.has(key):
            updates[key] = p.text(key)
    if p.has("tax_behavior"):
        updates["tax_behavior"] = p.choice(
            "tax_behavior", ("inclusive", "exclusive", "unspecified")
        )
    metadata = p.metadata()
    p.ignore("transfer_lookup_key", "currency_options")
    p.finish()
    with st.lock:
        price = st.get("price", pid)
        before = st.render("price", price)
        price.update(updates)
        apply_metadata(price["metadata"], metadata)
        return call.updated("price", price, before)


@router.get("/v1/prices")
def list_prices(request: Request) -> Response:
    call = begin(request)
    p = call.params
    product_id = p.text("product")
    active = p.boolean("active")
    kind = p.choice("type", ("one_time", "recurring"))
    currency = p.text("currency")
    lookup_keys = p.text_list("lookup_keys")
    created = created_filter(p)
    rec = p.sub("recurring")
    interval = rec.text("interval") if rec else None
    if rec:
        rec.ignore("usage_type", "meter")
    return call.list_where(
        "price",
        "/v1/prices",
        lambda o: (
            fields_match(o, product=product_id, active=active, type=kind, currency=currency)
            and (lookup_keys is None or o["lookup_key"] in lookup_keys)
            and (interval is None or (o["recurring"] or {}).get("interval") == interval)
            and created(o)
        ),
    )
