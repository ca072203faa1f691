"""Our Stripe-Signature implementation against the official SDK's, both directions."""

from __future__ import annotations

import json
import time

import pytest
import stripe

from syncwright.connectors.stripe import signature as sig
from syncwright.errors import AuthError, ConfigError

SECRET = "whsec_test_secret_one"
OTHER = "whsec_test_secret_two"
PAYLOAD = json.dumps(
    {"id": "evt_1", "object": "event", "type": "customer.created", "data": {"object": {}}},
    indent=2,
).encode()


def test_our_signature_is_accepted_by_the_sdk() -> None:
    header = sig.sign_stripe_payload(PAYLOAD, SECRET, int(time.time()))
    event = stripe.Webhook.construct_event(PAYLOAD, header, SECRET)
    assert event.id == "evt_1"
    assert header.startswith("t=") and ",v1=" in header


def test_sdk_signature_is_accepted_by_us() -> None:
    now = int(time.time())
    header = stripe.WebhookSignature.generate_signature_header(PAYLOAD.decode(), SECRET, now)
    sig.verify_stripe_signature(PAYLOAD, header, [SECRET])
    # Same bytes, same answer, whichever way the SDK computes it.
    expected = stripe.WebhookSignature._compute_signature(f"{now}.{PAYLOAD.decode()}", SECRET)
    assert sig.compute_stripe_signature(PAYLOAD, SECRET, now) == expected


def _code(exc: pytest.ExceptionInfo[AuthError]) -> str:
    return exc.value.code


def test_tampered_payload_is_rejected() -> None:
    header = sig.sign_stripe_payload(PAYLOAD, SECRET, int(time.time()))
    with pytest.raises(AuthError) as err:
        sig.verify_stripe_signature(PAYLOAD.replace(b"customer", b"kustomer"), header, [SECRET])
    assert _code(err) == sig.CODE_MISMATCH
    assert SECRET not in str(err.value)


def test_wrong_secret_is_rejected() -> None:
    header = sig.sign_stripe_payload(PAYLOAD, OTHER, int(time.time()))
    with pytest.raises(AuthError) as err:
        sig.verify_stripe_signature(PAYLOAD, header, [SECRET])
    assert _code(err) == sig.CODE_MISMATCH


def test_stale_and_future_timestamps_are_rejected() -> None:
    now = 1_800_000_000.0
    old = sig.sign_stripe_payload(PAYLOAD, SECRET, int(now) - 301)
    with pytest.raises(AuthError) as err:
        sig.verify_stripe_signature(PAYLOAD, old, [SECRET], now=now)
    assert _code(err) == sig.CODE_TIMESTAMP
    future = sig.sign_stripe_payload(PAYLOAD, SECRET, int(now) + 301)
    with pytest.raises(AuthError):
        sig.verify_stripe_signature(PAYLOAD, future, [SECRET], now=now)
    # Inside the tolerance, and with the check disabled, both pass.
    sig.verify_stripe_signature(PAYLOAD, old, [SECRET], now=now, tolerance_seconds=600)
    sig.verify_stripe_signature(PAYLOAD, old, [SECRET], now=now, tolerance_seconds=0)
    # The SDK agrees that a stale one is stale.
    stale = sig.sign_stripe_payload(PAYLOAD, SECRET, int(time.time()) - 301)
    with pytest.raises(stripe.SignatureVerificationError):
        stripe.WebhookSignature.verify_header(PAYLOAD, stale, SECRET, tolerance=300)


def test_rotation_two_secrets_and_two_signatures() -> None:
    now = int(time.time())
    new_sig = sig.compute_stripe_signature(PAYLOAD, OTHER, now)
    old_sig = sig.compute_stripe_signature(PAYLOAD, SECRET, now)
    # Stripe sends one v1 per active secret during a rotation.
    header = f"t={now},v1={new_sig},v1={old_sig},v0=legacy"
    sig.verify_stripe_signature(PAYLOAD, header, [SECRET])
    sig.verify_stripe_signature(PAYLOAD, header, [OTHER])
    # The receiver may hold both secrets while it rotates.
    only_new = sig.sign_stripe_payload(PAYLOAD, OTHER, now)
    sig.verify_stripe_signature(PAYLOAD, only_new, [SECRET, OTHER])
    stripe.Webhook.construct_event(PAYLOAD, header, SECRET)


@pytest.mark.parametrize(
    ("header", "code"),
    [
        (None, sig.CODE_MISSING_HEADER),
        ("", sig.CODE_MISSING_HEADER),
        ("garbage", sig.CODE_MALFORMED),
        ("v1=abc", sig.CODE_MALFORMED),
        ("t=abc,v1=abc", sig.CODE_MALFORMED),
        ("t=123", sig.CODE_MALFORMED),
        ("t=123,v0=abc", sig.CODE_MALFORMED),
    ],
)
def test_malformed_headers(header: str | None, code: str) -> None:
    with pytest.raises(AuthError) as err:
        sig.verify_stripe_signature(PAYLOAD, header, [SECRET], now=123)
    assert _code(err) == code


def test_no_secret_is_a_config_error() -> None:
    header = sig.sign_stripe_payload(PAYLOAD, SECRET, int(time.time()))
    with pytest.raises(ConfigError) as err:
        sig.verify_stripe_signature(PAYLOAD, header, ["", "  "])
    assert err.value.code == sig.CODE_NO_SECRET


def test_str_payload_is_signed_as_utf8() -> None:
    text = '{"name": "Zoë"}'
    header = sig.sign_stripe_payload(text, SECRET, int(time.time()))
    sig.verify_stripe_signature(text.encode("utf-8"), header, [SECRET])
    stripe.WebhookSignature.verify_header(text, header, SECRET)
