"""Synchronous validation against the ERP (credit, customer, products, tax) within a deadline,
with a short-lived cache and a fallback policy. See ``docs/validation.md``."""

from syncwright.validation.service import (
    CHECKS,
    Fallback,
    InvalidSubject,
    Source,
    UnknownCheck,
    ValidationPolicy,
    ValidationResult,
    ValidationService,
    normalize_subject,
)

__all__ = [
    "CHECKS",
    "Fallback",
    "InvalidSubject",
    "Source",
    "UnknownCheck",
    "ValidationPolicy",
    "ValidationResult",
    "ValidationService",
    "normalize_subject",
]
