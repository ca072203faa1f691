"""A Stripe Billing emulator: a real HTTP server that answers like ``api.stripe.com`` does.

Point the official SDK at it by base URL only::

    from syncwright.sandbox import ServerThread
    from syncwright.sandbox.stripe import StripeState, create_app

    state = StripeState()
    server = ServerThread(create_app(state, api_key="sk_test_sandbox")).start()
    client = stripe.StripeClient("sk_test_sandbox", base_addresses={"api": server.url})

See ``README.md`` in this folder for what is emulated and how to drive the clock and faults.
"""

from syncwright.sandbox.stripe._app import create_app
from syncwright.sandbox.stripe._objects import DEFAULT_API_VERSION
from syncwright.sandbox.stripe._state import (
    PAYMENT_SWITCH_METADATA_KEY,
    TEST_PAYMENT_METHODS,
    RequestContext,
    StripeState,
)
from syncwright.sandbox.stripe._webhooks import DeliveryRecord, WebhookFaults

__all__ = [
    "DEFAULT_API_VERSION",
    "PAYMENT_SWITCH_METADATA_KEY",
    "TEST_PAYMENT_METHODS",
    "DeliveryRecord",
    "RequestContext",
    "StripeState",
    "WebhookFaults",
    "create_app",
    "run",
]


def run(
    port: int = 12111,
    *,
    host: str = "127.0.0.1",
    api_key: str = "sk_test_sandbox",
    rate_limit_per_second: float | None = None,
) -> None:
    """Serve the emulator in the foreground (``python -m syncwright.sandbox.stripe``)."""
    import uvicorn

    uvicorn.run(
        create_app(api_key=api_key, rate_limit_per_second=rate_limit_per_second),
        host=host,
        port=port,
        log_level="info",
    )
