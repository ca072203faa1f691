"""The connector's webhook verifier against deliveries the Stripe emulator signs, and polling
healing what webhooks dropped (the inbox keeps one row per Stripe event)."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
import stripe
from fastapi import FastAPI, Request, Response

from syncwright.connectors._base import WebhookVerifier
from syncwright.connectors.stripe.inbound import MAPPED_EVENT_TYPES
from syncwright.connectors.stripe.signature import (
    CODE_MALFORMED,
    CODE_MISMATCH,
    CODE_MISSING_HEADER,
    CODE_TIMESTAMP,
    compute_stripe_signature,
    sign_stripe_payload,
)
from syncwright.errors import AuthError
from syncwright.runtime import Runtime
from syncwright.sandbox import ServerThread
from syncwright.sandbox.stripe import StripeState, WebhookFaults
from tests.connectors.stripe._support import CONNECTION, RuntimeFactory, accept, poll_everything


@dataclass
class Receiver:
    """``POST /hooks/stripe``: verify with the connector's verifier, then land in the inbox,
    answering as the intake does (401 on a bad signature, 200 otherwise)."""

    url: str
    verifier: WebhookVerifier | None = None
    runtime: Runtime | None = None
    accepted: list[dict[str, Any]] = field(default_factory=list)
    rejected: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    app = FastAPI()
    box: dict[str, Receiver] = {}

    @app.post("/hooks/stripe")
    async def hook(request: Request) -> Response:
        rec = box["r"]
        body = await request.body()
        assert rec.verifier is not None
        try:
            rec.verifier.verify(body, dict(request.headers))
        except AuthError as exc:
            with rec.lock:
                rec.rejected.append(exc.code)
            return Response(status_code=401)
        payload = json.loads(body)
        with rec.lock:
            rec.accepted.append(
                {"body": body, "signature": request.headers["stripe-signature"], "json": payload}
            )
            if rec.runtime is not None:
                rec.runtime.inbox.accept(
                    connection=CONNECTION,
                    vendor_event_id=payload["id"],
                    event_type=payload["type"],
                    body=body.decode(),
                )
        return Response('{"received": true}', media_type="application/json")

    server = ServerThread(app).start()
    box["r"] = Receiver(url=f"{server.url}/hooks/stripe")
    yield box["r"]
    server.stop()


def _endpoint_secret(sdk: stripe.StripeClient, url: str) -> str:
    # The SDK types enabled_events as a Literal per type; ours are plain strings.
    params: Any = {"url": url, "enabled_events": list(MAPPED_EVENT_TYPES)}
    endpoint = sdk.v1.webhook_endpoints.create(params)
    assert endpoint.secret and endpoint.secret.startswith("whsec_")
    return str(endpoint.secret)


def test_emulator_signed_deliveries_verify_and_tampering_is_refused(
    sdk: stripe.StripeClient,
    stripe_state: StripeState,
    make_runtime: RuntimeFactory,
    receiver: Receiver,
) -> None:
    secret = _endpoint_secret(sdk, receiver.url)
    runtime = make_runtime(webhook_secrets=[secret])
    verifier = runtime.connection(CONNECTION).webhook_verifier()
    assert verifier is not None and secret not in repr(verifier)
    receiver.verifier = verifier

    sdk.v1.customers.create({"name": "Signed Ltd", "email": "a@signed.test"})
    sdk.v1.customers.create({"name": "Signed Two", "email": "b@signed.test"})
    assert stripe_state.drain_webhooks(10)
    assert len(receiver.accepted) == 2 and receiver.rejected == []

    body, header = receiver.accepted[0]["body"], receiver.accepted[0]["signature"]
    verifier.verify(body, {"Stripe-Signature": header})  # any header case
    tampered = body.replace(b"Signed Ltd", b"Signed Inc")
    with pytest.raises(AuthError) as info:
        verifier.verify(tampered, {"stripe-signature": header})
    assert info.value.code == CODE_MISMATCH
    stale = sign_stripe_payload(body, secret, int(time.time()) - 3600)
    with pytest.raises(AuthError) as info:
        verifier.verify(body, {"stripe-signature": stale})
    assert info.value.code == CODE_TIMESTAMP
    with pytest.raises(AuthError) as info:
        verifier.verify(body, {})
    assert info.value.code == CODE_MISSING_HEADER
    with pytest.raises(AuthError) as info:
        verifier.verify(body, {"stripe-signature": "garbage"})
    assert info.value.code == CODE_MALFORMED
    # A delivery signed for another endpoint is refused by the receiver the emulator posts to.
    other = sign_stripe_payload(body, "whsec_someone_else", int(time.time()))
    with pytest.raises(AuthError):
        verifier.verify(body, {"stripe-signature": other})


def test_secret_rotation_accepts_both_secrets(make_runtime: RuntimeFactory) -> None:
    old, new = "whsec_rotation_old_value", "whsec_rotation_new_value"
    verifier = make_runtime(webhook_secrets=[new, old]).connection(CONNECTION).webhook_verifier()
    assert verifier is not None
    body = json.dumps({"id": "evt_1", "type": "customer.created"}).encode()
    now = int(time.time())
    for secret in (old, new):
        verifier.verify(body, {"stripe-signature": sign_stripe_payload(body, secret, now)})
    # During a rotation Stripe signs with both: one header, two v1 signatures.
    both = (
        f"t={now},v1={compute_stripe_signature(body, old, now)},"
        f"v1={compute_stripe_signature(body, new, now)}"
    )
    verifier.verify(body, {"stripe-signature": both})
    with pytest.raises(AuthError) as info:
        verifier.verify(body, {"stripe-signature": sign_stripe_payload(body, "whsec_x", now)})
    assert info.value.code == CODE_MISMATCH


def test_no_secret_means_no_webhooks(make_runtime: RuntimeFactory) -> None:
    assert make_runtime().connection(CONNECTION).webhook_verifier() is None


def test_polling_finds_what_dropped_webhooks_missed(
    sdk: stripe.StripeClient,
    stripe_state: StripeState,
    make_runtime: RuntimeFactory,
    receiver: Receiver,
) -> None:
    secret = _endpoint_secret(sdk, receiver.url)
    runtime = make_runtime(webhook_secrets=[secret])
    receiver.verifier = runtime.connection(CONNECTION).webhook_verifier()
    receiver.runtime = runtime
    connector = runtime.connection(CONNECTION)

    sdk.v1.customers.create({"name": "Before the outage"})
    assert stripe_state.drain_webhooks(10)
    _, cursor = poll_everything(connector)  # in step: the cursor is the newest event
    stripe_state.configure_webhooks(WebhookFaults(drop_next=3))
    missed = [sdk.v1.customers.create({"name": f"During {n}"}).id for n in range(3)]
    # Deliveries run on the emulator's own thread: let it drop all three before the switch is
    # turned off again, or a late one would be delivered instead.
    deadline = time.monotonic() + 10
    while sum(r.outcome == "dropped" for r in stripe_state.webhook_deliveries()) < 3:
        assert time.monotonic() < deadline, "the emulator did not drop the three deliveries"
        time.sleep(0.02)
    stripe_state.configure_webhooks(WebhookFaults())
    sdk.v1.customers.create({"name": "After the outage"})
    assert stripe_state.drain_webhooks(10)
    dropped = [r.event_id for r in stripe_state.webhook_deliveries() if r.outcome == "dropped"]
    assert len(dropped) == 3
    delivered = {d["json"]["id"] for d in receiver.accepted}
    assert not delivered & set(dropped)

    polled, _ = poll_everything(connector, cursor)
    polled_ids = [p.vendor_event_id for p in polled]
    assert set(dropped) <= set(polled_ids)
    assert len(polled_ids) == 4  # only what is newer than the cursor
    # The inbox dedupes on the Stripe event id: webhook + poll of one event is one row.
    assert accept(runtime, polled) == 3
    bodies = [json.loads(r.body) for r in runtime.inbox.pending(100)]
    assert len(bodies) == 5 and len({b["id"] for b in bodies}) == 5
    assert {b["data"]["object"]["id"] for b in bodies} >= set(missed)
