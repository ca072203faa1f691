"""Every connector's webhook verifier answers a malformed header with AuthError (a 401 the
intake records), never another exception (a 500). Headers arrive as Starlette decodes them:
latin-1 text, so any byte can appear."""

from __future__ import annotations

import time
from collections.abc import Mapping

import pytest

from syncwright.connectors.example.signature import HEADER as EXAMPLE_HEADER
from syncwright.connectors.example.signature import ExampleSignatureVerifier
from syncwright.connectors.hubspot.signature import (
    SIGNATURE_HEADER as HUBSPOT_SIGNATURE,
)
from syncwright.connectors.hubspot.signature import (
    TIMESTAMP_HEADER as HUBSPOT_TIMESTAMP,
)
from syncwright.connectors.hubspot.signature import HubSpotSignatureVerifier
from syncwright.connectors.stripe.connector import StripeWebhookVerifier
from syncwright.connectors.zendesk.signature import (
    SIGNATURE_HEADER as ZENDESK_SIGNATURE,
)
from syncwright.connectors.zendesk.signature import (
    TIMESTAMP_HEADER as ZENDESK_TIMESTAMP,
)
from syncwright.connectors.zendesk.signature import (
    ZendeskSignatureVerifier,
)
from syncwright.errors import AuthError

BODY = b'{"id": "evt_1"}'
NOW = str(int(time.time()))
# Stamps and signatures that have tripped parsers: non-ASCII, Unicode digits, odd hex,
# enormous numbers, missing or empty parts.
STAMPS = ["", "\xb2", "\u0661\u0662", "9" * 400, "1_000", "+1", " ", "\xff" * 8, NOW]
SIGNATURES = ["", "abc", "\xff\xfe", "zz", "0" * 63, "=", "\x00", "é" * 64]


def _stripe_headers() -> list[Mapping[str, str]]:
    found: list[Mapping[str, str]] = [{}, {"stripe-signature": ""}, {"stripe-signature": ",,="}]
    for stamp in STAMPS:
        for signature in SIGNATURES:
            found.append({"stripe-signature": f"t={stamp},v1={signature}"})
        found.append({"stripe-signature": f"t={stamp}"})
    return found


def _example_headers() -> list[Mapping[str, str]]:
    found: list[Mapping[str, str]] = [{}, {EXAMPLE_HEADER: "="}, {EXAMPLE_HEADER: ",,,"}]
    for stamp in STAMPS:
        for signature in SIGNATURES:
            found.append({EXAMPLE_HEADER: f"t={stamp},v1={signature}"})
    return found


def _zendesk_headers() -> list[Mapping[str, str]]:
    found: list[Mapping[str, str]] = [{}, {ZENDESK_SIGNATURE: "abc"}]
    stamps = [*STAMPS, "2024-04-17T17:18:10Z", "9999-12-31T23:59:59+14:00", "\xff-01-01"]
    for stamp in stamps:
        for signature in [*SIGNATURES, "====", "YQ=", "\xff" * 44]:
            found.append({ZENDESK_SIGNATURE: signature, ZENDESK_TIMESTAMP: stamp})
    return found


def _hubspot_headers() -> list[Mapping[str, str]]:
    found: list[Mapping[str, str]] = [{}, {HUBSPOT_SIGNATURE: "abc"}]
    stamps = [*STAMPS, str(int(time.time() * 1000)), "9" * 15]
    for stamp in stamps:
        for signature in [*SIGNATURES, "====", "YQ=", "\xff" * 44]:
            for host in ("sync.example.com", "\xff\xfe", ""):
                found.append({HUBSPOT_SIGNATURE: signature, HUBSPOT_TIMESTAMP: stamp, "host": host})
    return found


@pytest.mark.parametrize(
    ("verifier", "headers"),
    [
        (StripeWebhookVerifier(["whsec_test"], 300), _stripe_headers()),
        (ExampleSignatureVerifier(["whsec_test"], 300), _example_headers()),
        (ZendeskSignatureVerifier(["zd_secret"], tolerance_seconds=300), _zendesk_headers()),
        (
            HubSpotSignatureVerifier(["hs_secret"], connection="crm", webhook_url=None),
            _hubspot_headers(),
        ),
    ],
    ids=["stripe", "example", "zendesk", "hubspot"],
)
def test_malformed_headers_raise_auth_error_only(
    verifier: ExampleSignatureVerifier, headers: list[Mapping[str, str]]
) -> None:
    for header in headers:
        with pytest.raises(AuthError):
            verifier.verify(BODY, header)
