"""Ownership (system of record per domain and field), echo suppression, staleness and deltas.

The dispatcher passes every canonical change event through :class:`PolicyGate` before it
routes it; outbound steps report what they wrote through their ``ledger`` block
(``ledger_block(..., fields=...)``), which :class:`PolicyStore` remembers for echo suppression.
See ``docs/policy.md``.
"""

from syncwright.policy.entities import DOMAIN_MODELS, event_subject, field_digests
from syncwright.policy.gate import PolicyGate, Verdict
from syncwright.policy.ownership import DEFAULT_OWNERSHIP, Owner, OwnershipPolicy
from syncwright.policy.store import Decision, PolicyStore, StoredState

__all__ = [
    "DEFAULT_OWNERSHIP",
    "DOMAIN_MODELS",
    "Decision",
    "Owner",
    "OwnershipPolicy",
    "PolicyGate",
    "PolicyStore",
    "StoredState",
    "Verdict",
    "event_subject",
    "field_digests",
]
