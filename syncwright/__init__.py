"""syncwright: keeps CRM, support desk, subscription billing and ERP in step.

The curated public API. Everything else is reachable through its sub-package but may change
between minor versions; ``tests/test_public_api.py`` guards this list.
"""

from syncwright.errors import (
    AuthError,
    BusinessRuleError,
    ConfigError,
    SyncwrightError,
    TransientError,
    UncertainOutcomeError,
)

__version__ = "0.1.0"

__all__ = [
    "AuthError",
    "BusinessRuleError",
    "ConfigError",
    "SyncwrightError",
    "TransientError",
    "UncertainOutcomeError",
    "__version__",
]
