"""Events, webhook endpoints and test clocks.

Docs: https://docs.stripe.com/api/events, https://docs.stripe.com/api/webhook_endpoints,
https://docs.stripe.com/api/test_clocks, https://docs.stripe.com/billing/testing/test-clocks.
"""

from __future__ import annotations

import copy
from typing import Any

from fastapi import APIRouter, Request, Response

from . import _clock as clk
from . import _objects as ob
from ._errors import invalid_param, parameter_missing, resource_missing
from ._forms import apply_metadata, initial_metadata
from ._routing import begin, deleted, json_response
from ._views import created_filter

router = APIRouter()


# -- events ----------------------------------------------------------------------------------


@router.get("/v1/events")
def list_events(request: Request) -> Response:
    call = begin(request)
    p, st = call.params, call.state
    event_type = p.text("type")
    types = p.text_list("types")
    if event_type is not None and types is not None:
        raise invalid_param("You may only specify one of these parameters: type, types.", "type")
    created = created_filter(p)
    delivery_success = p.boolean("delivery_success")

    def type_ok(t: str) -> bool:
        patterns = types if types is not None else ([event_type] if event_type else None)
        if patterns is None:
            return True
        for pattern in patterns:
            if pattern == t or (pattern.endswith("*") and t.startswith(pattern[:-1])):
                return True
        return False

    with st.lock:
        items = [
            e
            for e in st.sorted_events()
            if type_ok(e["type"])
            and created(e)
            and (delivery_success is None or (e["pending_webhooks"] == 0) == delivery_success)
        ]
        return call.listing(
            "event",
            items,
            "/v1/events",
            lookup=st.events.get,
            render=copy.deepcopy,
        )


@router.get("/v1/events/{eid}")
def retrieve_event(request: Request, eid: str) -> Response:
    call = begin(request)
    call.params.finish()
    st = call.state
    with st.lock:
        event = st.events.get(eid)
        if event is None:
            raise resource_missing("event", eid)
        return call.raw(copy.deepcopy(event))


# -- webhook endpoints -----------------------------------------------------------------------


@router.post("/v1/webhook_endpoints")
def create_webhook_endpoint(request: Request) -> Response:
    call = begin(request)
    p, st = call.params, call.state
    url = p.req_text("url")
    enabled = p.text_list("enabled_events")
    if not enabled:
        raise parameter_missing("enabled_events")
    description = p.text("description")
    api_version = p.text("api_version")
    metadata = p.metadata()
    p.ignore("connect")
    p.finish()
    if not url.startswith(("http://", "https://")):
        raise invalid_param("Invalid URL: must start with http:// or https://", "url")
    with st.lock:
        we = ob.webhook_endpoint(
            ob.new_id("we"),
            st.wall_now(),
            url=url,
            enabled_events=enabled,
            description=description,
            api_version=api_version,
            metadata=initial_metadata(metadata),
        )
        secret = ob.new_id("whsec")
        st.put("webhook_endpoint", we)
        st.webhook_secrets[we["id"]] = secret
        # Only the create response reveals the signing secret, as at Stripe.
        body = st.render("webhook_endpoint", we)
        body["secret"] = secret
        return call.raw(body)


@router.get("/v1/webhook_endpoints/{wid}")
def retrieve_webhook_endpoint(request: Request, wid: str) -> Response:
    return begin(request).retrieve("webhook_endpoint", wid)


@router.post("/v1/webhook_endpoints/{wid}")
def update_webhook_endpoint(request: Request, wid: str) -> Response:
    call = begin(request)
    p, st = call.params, call.state
    updates: dict[str, Any] = {}
    if p.has("url"):
        updates["url"] = p.req_text("url")
    if p.has("enabled_events"):
        updates["enabled_events"] = p.text_list("enabled_events") or []
    if p.has("description"):
        updates["description"] = p.text("description")
    disabled = p.boolean("disabled")
    metadata = p.metadata()
    p.finish()
    with st.lock:
        we = st.get("webhook_endpoint", wid)
        we.update(updates)
        if disabled is not None:
            we["status"] = "disabled" if disabled else "enabled"
        apply_metadata(we["metadata"], metadata)
        return call.ok("webhook_endpoint", we)


@router.delete("/v1/webhook_endpoints/{wid}")
def delete_webhook_endpoint(request: Request, wid: str) -> Response:
    call = begin(request)
    call.params.finish()
    st = call.state
    with st.lock:
        st.get("webhook_endpoint", wid)
        st.remove("webhook_endpoint", wid)
        return json_response(deleted(wid, "webhook_endpoint"))


@router.get("/v1/webhook_endpoints")
def list_webhook_endpoints(request: Request) -> Response:
    return begin(request).list_where(
        "webhook_endpoint", "/v1/webhook_endpoints", kind_name="webhook endpoint"
    )


# -- test clocks -----------------------------------------------------------------------------


@router.post("/v1/test_helpers/test_clocks")
def create_test_clock(request: Request) -> Response:
    call = begin(request)
    p, st = call.params, call.state
    frozen = p.integer("frozen_time", required=True)
    assert frozen is not None
    name = p.text("name")
    customer_id = p.text("customer")
    p.finish()
    with st.lock:
        customer = st.get("customer", customer_id, param="customer") if customer_id else None
        clock = ob.test_clock(ob.new_id("clock"), st.wall_now(), frozen_time=frozen, name=name)
        if customer is not None:
            clk.attach_customer(st, clock, customer)
        st.put("test_clock", clock)
        st.emit("test_helpers.test_clock.created", "test_clock", clock, call.ctx)
        return call.ok("test_clock", clock)


@router.get("/v1/test_helpers/test_clocks/{cid}")
def retrieve_test_clock(request: Request, cid: str) -> Response:
    return begin(request).retrieve("test_clock", cid)


@router.post("/v1/test_helpers/test_clocks/{cid}/advance")
def advance_test_clock(request: Request, cid: str) -> Response:
    call = begin(request)
    p, st = call.params, call.state
    frozen = p.integer("frozen_time", required=True)
    assert frozen is not None
    p.finish()
    with st.lock:
        clock = st.get("test_clock", cid)
        clk.advance_clock(st, clock, frozen, call.ctx)
        # Stripe answers while the clock is still advancing and the work runs in the
        # background; the emulator has already finished, so a retrieve shows "ready".
        body = st.render("test_clock", clock)
        body["status"] = "advancing"
        return call.raw(body)


@router.delete("/v1/test_helpers/test_clocks/{cid}")
def delete_test_clock(request: Request, cid: str) -> Response:
    call = begin(request)
    call.params.finish()
    st = call.state
    with st.lock:
        clock = st.get("test_clock", cid)
        # Deleting a clock deletes the objects attached to it.
        for cust in [c for c in st.objects["customer"].values() if c["test_clock"] == cid]:
            for kind in ("subscription", "invoice", "invoiceitem", "payment_intent", "credit_note"):
                for obj in list(st.objects[kind].values()):
                    if obj.get("customer") == cust["id"]:
                        st.remove(kind, obj["id"])
            for si in list(st.objects["subscription_item"].values()):
                if st.find("subscription", si["subscription"]) is None:
                    st.remove("subscription_item", si["id"])
            st.remove("customer", cust["id"])
            st.deleted_customers[cust["id"]] = deleted(cust["id"], "customer")
        st.emit("test_helpers.test_clock.deleted", "test_clock", clock, call.ctx)
        st.remove("test_clock", cid)
        return json_response(deleted(cid, "test_helpers.test_clock"))


@router.get("/v1/test_helpers/test_clocks")
def list_test_clocks(request: Request) -> Response:
    return begin(request).list_where(
        "test_clock", "/v1/test_helpers/test_clocks", kind_name="test clock"
    )
