"""What the billing demos need beyond ``pip install syncwright``: the ``sandbox`` extra.

The demos drive the Stripe emulator the way a user's own systems would, with Stripe's SDK, and
read Salesforce change events over the Pub/Sub API (grpcio, protobuf, fastavro); a lean
install does not carry them, so the demo says how to get it instead of failing on an import.
"""

from __future__ import annotations

import importlib

from syncwright.errors import ConfigError

__all__ = ["SANDBOX_EXTRA_HINT", "require_sandbox_extra"]

SANDBOX_EXTRA_HINT = "pip install 'syncwright[sandbox]'"
# Import name -> what uses it; every entry is a dependency of the `sandbox` extra.
_NEEDED = {
    "stripe": "Stripe's SDK (the demo's billing system talks to the Stripe emulator)",
    # The Salesforce emulator serves Change Data Capture over the Pub/Sub API (gRPC, Avro).
    "grpc": "grpcio (the Salesforce Pub/Sub API)",
    "google.protobuf": "protobuf (the Salesforce Pub/Sub API)",
    "fastavro": "fastavro (Salesforce change events)",
}


def require_sandbox_extra() -> None:
    """Raise :class:`ConfigError` naming the missing packages and the install command."""
    missing = [what for name, what in _NEEDED.items() if not _importable(name)]
    if missing:
        raise ConfigError(
            f"this demo needs the sandbox extra, which is not installed: {SANDBOX_EXTRA_HINT}",
            code="demo.sandbox_extra_missing",
            problems=[f"missing {what}; install it with {SANDBOX_EXTRA_HINT}" for what in missing],
        )


def _importable(name: str) -> bool:
    try:
        importlib.import_module(name)
    except ImportError:
        return False
    return True
