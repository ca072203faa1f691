"""How Stripe signs a webhook delivery: the emulator's own implementation.

``Stripe-Signature: t=<unix>,v1=<hex HMAC-SHA256(secret, f"{t}." + body)>``, keyed with the
endpoint's whole ``whsec_...`` secret. Kept apart from the connector's verifier on purpose (an
emulator never imports connector code): the tests check both against ``stripe.Webhook``.

Docs: https://docs.stripe.com/webhooks#verify-manually
"""

from __future__ import annotations

import hashlib
import hmac

__all__ = ["SIGNATURE_HEADER", "stripe_signature_header"]

SIGNATURE_HEADER = "Stripe-Signature"


def stripe_signature_header(payload: bytes, secret: str, timestamp: int) -> str:
    """The ``Stripe-Signature`` value Stripe would send with ``payload`` at ``timestamp``."""
    signed = f"{int(timestamp)}.".encode("ascii") + payload
    digest = hmac.new(secret.encode("utf-8"), signed, hashlib.sha256).hexdigest()
    return f"t={int(timestamp)},v1={digest}"
