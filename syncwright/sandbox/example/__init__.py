"""A small ERP emulator used by the in-repo example connector and the runtime's own tests.

It behaves like a careful vendor API: bearer auth, idempotency keys, business validation with
a structured error, 429 with Retry-After, and the shared fault switches. Its ``/_sandbox/stats``
counts how often each write was *applied*, which is how tests prove exactly-once effects.
"""

from syncwright.sandbox.example.app import ExampleErpState, create_app

__all__ = ["ExampleErpState", "create_app"]
