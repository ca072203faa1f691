"""The Stripe outbound actions (create_customer, create_subscription, their probes and the
cancel compensation) against the Stripe emulator, through a real Runtime (SQLite
cross-reference) and real step contexts."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl

import httpx
import pytest
import sqlalchemy as sa
import stripe

from syncwright.connectors.stripe.client import StripeClient
from syncwright.engine import StepContext
from syncwright.errors import BusinessRuleError, ConfigError, TransientError, UncertainOutcomeError
from syncwright.runtime import Runtime
from syncwright.runtime_hooks import LedgerHooks
from syncwright.sandbox import FaultInjector, FaultPlan
from syncwright.sandbox.stripe import StripeState
from syncwright.store.tables import audit
from tests.connectors.stripe._support import API_KEY, CONNECTION, RuntimeFactory
from tests.connectors.stripe.conftest import (
    Catalog,
    StepContextFactory,
    account,
    run,
    subscription,
)


def _customers(sdk: stripe.StripeClient) -> list[Any]:
    return list(sdk.v1.customers.list({"limit": 100}).data)


def _subscriptions(sdk: stripe.StripeClient) -> list[Any]:
    return list(sdk.v1.subscriptions.list({"status": "all", "limit": 100}).data)


# -- customers -------------------------------------------------------------------------------


def test_create_customer_once_per_idempotency_key(
    sdk: stripe.StripeClient, make_runtime: RuntimeFactory, step_ctx: StepContextFactory
) -> None:
    first_rt, second_rt = make_runtime(), make_runtime()  # two databases: no shared xref
    key = {"workflow_id": "wf-000000000001-0-onboard", "step": "stripe.create_customer"}

    first = run(first_rt, step_ctx(first_rt, **key), "create_customer", account())
    # The same step again from a process that never linked it: the Idempotency-Key makes
    # Stripe replay its saved answer instead of creating a second customer.
    replayed = run(second_rt, step_ctx(second_rt, **key), "create_customer", account())
    # And in the process that did link it: the cross-reference answers, nothing is sent.
    again = run(first_rt, step_ctx(first_rt), "create_customer", account())

    customers = _customers(sdk)
    assert len(customers) == 1
    customer = customers[0]
    assert first["native_id"] == replayed["native_id"] == again["native_id"] == customer.id
    assert first["created"] is True and again["created"] is False
    assert customer.name == "Acme Corp" and customer.email == "ap@acme.test"
    assert customer.metadata.to_dict() == {"syncwright_id": "acct_gid_1", "subsidiary": "US-1"}
    assert customer.address is not None and customer.address.state == "IL"
    assert first_rt.xref.native_id_for("account", "acct_gid_1", CONNECTION) == customer.id
    assert first["ledger"]["entity_type"] == "account"
    assert first["ledger"]["native_ids"] == {CONNECTION: customer.id}


@pytest.mark.parametrize("email", ["ap@lost.test", None])
def test_probe_finds_a_customer_whose_answer_was_lost(
    sdk: stripe.StripeClient,
    make_runtime: RuntimeFactory,
    step_ctx: StepContextFactory,
    stripe_faults: FaultInjector,
    email: str | None,
) -> None:
    runtime = make_runtime()
    probe = runtime.connection(CONNECTION).action("create_customer").probe
    assert probe is not None
    sdk.v1.customers.create({"name": "Someone Else", "email": "ap@lost.test"})  # not ours
    acct = account("acct_lost", email=email)
    assert probe(step_ctx(runtime), CONNECTION, acct) is None

    stripe_faults.configure(FaultPlan(lost_response_rate=1.0, stall_seconds=2.0))
    with pytest.raises(UncertainOutcomeError) as info:
        run(runtime, step_ctx(runtime, timeout_seconds=0.5), "create_customer", acct)
    assert info.value.code == "stripe.uncertain_outcome"
    stripe_faults.configure(FaultPlan())

    found = probe(step_ctx(runtime), CONNECTION, acct)
    assert found is not None
    ours = [c for c in _customers(sdk) if c.metadata.to_dict().get("syncwright_id") == "acct_lost"]
    assert len(ours) == 1 and found["native_id"] == ours[0].id
    assert runtime.xref.native_id_for("account", "acct_lost", CONNECTION) == ours[0].id


# -- subscriptions ---------------------------------------------------------------------------


def _customer(
    runtime: Runtime,
    step_ctx: StepContextFactory,
    state: StripeState,
    gid: str,
    *,
    pays: bool = True,
) -> dict[str, Any]:
    made = run(runtime, step_ctx(runtime), "create_customer", account(gid))
    state.set_payment_behaviour(made["native_id"], "succeed" if pays else "fail")
    return made


def test_create_subscription_active_and_linked(
    sdk: stripe.StripeClient,
    billing: Runtime,
    catalog: Catalog,
    step_ctx: StepContextFactory,
    stripe_state: StripeState,
) -> None:
    customer = _customer(billing, step_ctx, stripe_state, "acct_gid_1")
    # The seat price is mapped through its native id in another system (a CRM).
    billing.xref.link("price", "price_gid_seat", "crm", "CRM-SEAT")
    sub = subscription(
        items=[("price_gid_pro", "prod_gid_pro", 2, 3000), ("price_gid_seat", None, 5, 500)]
    )
    ctx = step_ctx(billing, step="stripe.create_subscription")

    result = run(billing, ctx, "create_subscription", sub, customer)
    again = run(billing, step_ctx(billing), "create_subscription", sub, None)

    subs = _subscriptions(sdk)
    assert len(subs) == 1
    made = subs[0]
    assert made.status == "active" and made.customer == customer["native_id"]
    assert made.metadata.to_dict() == {"syncwright_id": "sub_gid_1"}
    assert {(i.price.id, i.quantity) for i in made["items"].data} == {
        (catalog.pro, 2),
        (catalog.seat, 5),
    }
    assert result["status"] == "active" and result["created"] is True
    assert result["latest_invoice"] == made.latest_invoice
    assert str(result["latest_invoice"]).startswith("in_")
    assert again["native_id"] == made.id and again["created"] is False
    xref = billing.xref
    assert xref.native_id_for("subscription", "sub_gid_1", CONNECTION) == made.id
    for item in made["items"].data:
        gid = item.metadata["syncwright_id"]
        assert result["items"][gid] == item.id
        assert xref.native_id_for("subscription_item", gid, CONNECTION) == item.id
    assert xref.native_id_for("price", "price_gid_pro", CONNECTION) == catalog.pro
    assert result["ledger"]["entity_type"] == "subscription"
    # The parameters came from the shipped mapping file, whose version the ledger names.
    assert result["ledger"]["mapping_version"] == "stripe_outbound@2"


def test_first_payment_failing_leaves_it_incomplete(
    billing: Runtime, catalog: Catalog, step_ctx: StepContextFactory, stripe_state: StripeState
) -> None:
    _customer(billing, step_ctx, stripe_state, "acct_gid_1", pays=False)
    # Mapped through the product: an annual plan.
    sub = subscription(
        items=[("price_gid_annual", "prod_gid_annual", 1, 30000)], billing_frequency="annual"
    )
    result = run(billing, step_ctx(billing), "create_subscription", sub)
    assert result["status"] == "incomplete" and result["latest_invoice"]


def test_unmapped_or_mismatched_price_parks_and_creates_nothing(
    sdk: stripe.StripeClient,
    billing: Runtime,
    step_ctx: StepContextFactory,
    stripe_state: StripeState,
) -> None:
    _customer(billing, step_ctx, stripe_state, "acct_gid_1")
    unmapped = subscription(
        items=[("price_gid_pro", "prod_gid_pro", 1, 3000), ("price_gid_new", "prod_new", 1, 900)]
    )
    with pytest.raises(BusinessRuleError) as info:
        run(billing, step_ctx(billing), "create_subscription", unmapped)
    assert info.value.code == "stripe.unmapped_price"
    assert "price_gid_new" in info.value.message
    assert f"connections.{CONNECTION}.options.prices" in info.value.remediation

    wrong_amount = subscription(items=[("price_gid_pro", "prod_gid_pro", 1, 2500)])
    with pytest.raises(BusinessRuleError) as info:
        run(billing, step_ctx(billing), "create_subscription", wrong_amount)
    assert info.value.code == "stripe.price_mismatch"
    assert "25.00 USD" in info.value.message or "2500" in info.value.message

    wrong_interval = subscription(billing_frequency="quarterly")
    with pytest.raises(BusinessRuleError) as info:
        run(billing, step_ctx(billing), "create_subscription", wrong_interval)
    assert info.value.code == "stripe.price_mismatch"

    with pytest.raises(BusinessRuleError) as info:  # no customer for this account yet
        run(billing, step_ctx(billing), "create_subscription", subscription(account_id="acct_x"))
    assert info.value.code == "stripe.customer_not_synced"
    assert _subscriptions(sdk) == []


def test_missing_mapped_price_and_bad_options(
    make_runtime: RuntimeFactory, step_ctx: StepContextFactory, stripe_state: StripeState
) -> None:
    runtime = make_runtime(options={"prices": {"price_gid_pro": "price_does_not_exist"}})
    _customer(runtime, step_ctx, stripe_state, "acct_gid_1")
    with pytest.raises(BusinessRuleError) as info:
        run(runtime, step_ctx(runtime), "create_subscription", subscription())
    assert info.value.code == "stripe.price_missing"
    with pytest.raises(ConfigError) as config:
        make_runtime(options={"prices": {"price_gid_pro": 42}})
    assert "options.prices.price_gid_pro" in config.value.problems[0]


def test_compensation_cancels_and_is_idempotent(
    sdk: stripe.StripeClient,
    billing: Runtime,
    step_ctx: StepContextFactory,
    stripe_state: StripeState,
) -> None:
    _customer(billing, step_ctx, stripe_state, "acct_gid_1")
    sub = subscription()
    result = run(billing, step_ctx(billing), "create_subscription", sub)
    compensate = billing.connection(CONNECTION).action("create_subscription").compensate
    assert compensate is not None

    compensate(step_ctx(billing), result, CONNECTION, sub, None)
    assert sdk.v1.subscriptions.retrieve(result["native_id"]).status == "canceled"
    compensate(step_ctx(billing), result, CONNECTION, sub, None)  # already canceled: fine
    # A later attempt to create it again refuses to start a second one for the same id.
    with pytest.raises(BusinessRuleError) as info:
        run(billing, step_ctx(billing), "create_subscription", sub)
    assert info.value.code == "stripe.subscription_ended"
    assert len(_subscriptions(sdk)) == 1


def test_probe_finds_a_subscription_whose_answer_was_lost(
    sdk: stripe.StripeClient,
    billing: Runtime,
    step_ctx: StepContextFactory,
    stripe_state: StripeState,
    stripe_faults: FaultInjector,
) -> None:
    customer = _customer(billing, step_ctx, stripe_state, "acct_gid_1")
    sub = subscription()
    probe = billing.connection(CONNECTION).action("create_subscription").probe
    assert probe is not None
    assert probe(step_ctx(billing), CONNECTION, sub, customer) is None

    ctx = step_ctx(billing, step="stripe.create_subscription", timeout_seconds=0.5)
    stripe_faults.configure(FaultPlan(lost_response_rate=1.0, stall_seconds=2.0))
    with pytest.raises(UncertainOutcomeError):
        run(billing, ctx, "create_subscription", sub, customer)
    stripe_faults.configure(FaultPlan())

    found = probe(step_ctx(billing), CONNECTION, sub, customer)
    subs = _subscriptions(sdk)
    assert found is not None and len(subs) == 1
    assert found["native_id"] == subs[0].id and found["status"] == "active"
    assert billing.xref.native_id_for("subscription", "sub_gid_1", CONNECTION) == subs[0].id


# -- the client's writes, on a stub Stripe ---------------------------------------------------


def _stub(handler: Any) -> StripeClient:
    http = httpx.Client(transport=httpx.MockTransport(handler))
    return StripeClient("https://api.stripe.test", API_KEY, timeout=5, http=http)


def test_writes_are_form_encoded_with_the_idempotency_key() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"id": "sub_1", "object": "subscription"})

    client = _stub(handler)
    client.create_subscription(
        {
            "customer": "cus_1",
            "items": [{"price": "price_1", "quantity": 2, "metadata": {"syncwright_id": "i"}}],
            "metadata": {"syncwright_id": "s"},
            "cancel_at_period_end": True,
        },
        idempotency_key="wf-1:stripe.create_subscription:abc",
    )
    client.cancel_subscription("sub_1")
    post, delete = seen
    assert post.method == "POST" and post.url.path == "/v1/subscriptions"
    assert post.headers["idempotency-key"] == "wf-1:stripe.create_subscription:abc"
    assert post.headers["content-type"] == "application/x-www-form-urlencoded"
    assert parse_qsl(post.content.decode()) == [
        ("customer", "cus_1"),
        ("items[0][price]", "price_1"),
        ("items[0][quantity]", "2"),
        ("items[0][metadata][syncwright_id]", "i"),
        ("metadata[syncwright_id]", "s"),
        ("cancel_at_period_end", "true"),
    ]
    assert delete.method == "DELETE" and "idempotency-key" not in delete.headers


@pytest.mark.parametrize(
    ("failure", "kind"),
    [
        (httpx.ReadTimeout("slow"), UncertainOutcomeError),  # sent: may have landed
        (httpx.RemoteProtocolError("dropped"), UncertainOutcomeError),
        (httpx.ConnectError("refused"), TransientError),  # never sent
        (httpx.ConnectTimeout("slow connect"), TransientError),
    ],
)
def test_a_write_without_an_answer(failure: Exception, kind: type[Exception]) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise failure

    with pytest.raises(kind):
        _stub(handler).create_customer({"name": "x"}, idempotency_key="k")
    # Reads and cancellations are safe to repeat: always transient.
    with pytest.raises(TransientError):
        _stub(handler).get_price("price_1")
    with pytest.raises(TransientError):
        _stub(handler).cancel_subscription("sub_1")


def _audited(runtime: Runtime, *contexts: StepContext) -> list[tuple[str, str | None]]:
    """What the runtime hook records for these finished steps: (action, native id)."""
    hooks = LedgerHooks(runtime.ledger, runtime.exceptions, audit=runtime.audit)
    for ctx in contexts:
        hooks.record_writes(ctx)
    with runtime.db.engine.connect() as conn:
        rows = conn.execute(sa.select(audit.c.action, audit.c.native_id).order_by(audit.c.seq))
        return [(str(action), native_id) for action, native_id in rows]


def test_subscription_create_and_cancel_are_audited(
    billing: Runtime, step_ctx: StepContextFactory, stripe_state: StripeState
) -> None:
    _customer(billing, step_ctx, stripe_state, "acct_gid_1")
    sub = subscription()
    created_ctx, again_ctx, cancel_ctx = step_ctx(billing), step_ctx(billing), step_ctx(billing)
    result = run(billing, created_ctx, "create_subscription", sub)
    run(billing, again_ctx, "create_subscription", sub)  # linked already: no write
    compensate = billing.connection(CONNECTION).action("create_subscription").compensate
    assert compensate is not None
    compensate(cancel_ctx, result, CONNECTION, sub, None)
    assert _audited(billing, created_ctx, again_ctx, cancel_ctx) == [
        ("stripe.subscription.create", result["native_id"]),
        ("stripe.subscription.cancel", result["native_id"]),
    ]
    assert billing.audit.verify().ok
