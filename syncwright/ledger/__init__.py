"""The transaction ledger (every step attempt) and the hash-chained audit trail."""

from syncwright.ledger.audit import AuditTrail
from syncwright.ledger.ledger import Ledger, LedgerEntry, request_digest

__all__ = ["AuditTrail", "Ledger", "LedgerEntry", "request_digest"]
