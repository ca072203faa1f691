"""The transaction ledger (every step attempt) and the hash-chained audit trail."""

from syncwright.ledger.audit import AuditEntry, AuditTrail
from syncwright.ledger.audit_verify import AuditHead, Problem, VerifyReport
from syncwright.ledger.ledger import Ledger, LedgerEntry, request_digest

__all__ = [
    "AuditEntry",
    "AuditHead",
    "AuditTrail",
    "Ledger",
    "LedgerEntry",
    "Problem",
    "VerifyReport",
    "request_digest",
]
