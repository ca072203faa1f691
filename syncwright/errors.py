"""The one exception hierarchy of syncwright, grouped by what to do next.

Retryability is part of an error's *type*, never a string match (the dlt / Temporal way):

- :class:`TransientError` -- retry with backoff, honouring ``retry_after`` when the vendor sent one.
- :class:`BusinessRuleError` -- park the workflow with remediation text for operations.
- :class:`UncertainOutcomeError` -- the write may have happened: probe by external id, then decide.
- :class:`ConfigError` -- the configuration is wrong; nothing runs until it is fixed.
- :class:`AuthError` -- credentials or signatures are wrong; never retried blindly.

Every error carries a stable ``code`` that scripts, the ledger and the exception queue key on.
Messages must never contain secrets: callers pass redacted text only.
"""

from __future__ import annotations

from typing import Any, ClassVar

__all__ = [
    "AuthError",
    "BusinessRuleError",
    "ConfigError",
    "DependencyMissingError",
    "SyncwrightError",
    "TransientError",
    "UncertainOutcomeError",
    "error_from_dict",
]


class SyncwrightError(Exception):
    """Base of every error syncwright raises on purpose."""

    default_code: ClassVar[str] = "syncwright.error"
    retryable: ClassVar[bool] = False

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.code = code or self.default_code

    @property
    def kind(self) -> str:
        """The class name, used to rebuild the error after it crossed a process boundary."""
        return type(self).__name__

    def to_dict(self) -> dict[str, Any]:
        """A JSON-safe form, so durable workflow state never needs pickle."""
        return {"kind": self.kind, "code": self.code, "message": self.message}

    def __str__(self) -> str:
        return f"[{self.code}] {self.message}"


class TransientError(SyncwrightError):
    """A failure that is expected to pass: timeouts, 5xx, 429, lock contention."""

    default_code = "transient"
    retryable = True

    def __init__(
        self, message: str, *, code: str | None = None, retry_after: float | None = None
    ) -> None:
        super().__init__(message, code=code)
        self.retry_after = retry_after

    def to_dict(self) -> dict[str, Any]:
        return {**super().to_dict(), "retry_after": self.retry_after}


class BusinessRuleError(SyncwrightError):
    """The target refused the data on business grounds; a person must fix the data.

    ``remediation`` tells operations what to change, in plain words.
    """

    default_code = "business_rule"

    def __init__(self, message: str, *, code: str | None = None, remediation: str) -> None:
        super().__init__(message, code=code)
        self.remediation = remediation

    def to_dict(self) -> dict[str, Any]:
        return {**super().to_dict(), "remediation": self.remediation}


class DependencyMissingError(BusinessRuleError):
    """The step needs a record that is not there *yet* (the customer is not in the ERP yet).

    The exception queue marks it ``waiting`` and the worker retries it by itself once the record
    appears. ``waits_for`` names it: ``entity_type`` and ``global_id`` (looked up in the
    cross-reference on ``system``, the connection), and ``record_type`` (the target's own name
    for it, for a read by external id).
    """

    default_code = "dependency_missing"

    def __init__(
        self, message: str, *, code: str | None = None, remediation: str, waits_for: dict[str, str]
    ) -> None:
        super().__init__(message, code=code, remediation=remediation)
        self.waits_for = dict(waits_for)

    def to_dict(self) -> dict[str, Any]:
        return {**super().to_dict(), "waits_for": self.waits_for}


class UncertainOutcomeError(SyncwrightError):
    """A write whose response was lost: it may or may not have been applied.

    The engine probes the target (read by external id) before it retries, so a write is never
    applied twice.
    """

    default_code = "uncertain_outcome"
    retryable = True


class ConfigError(SyncwrightError):
    """The configuration is invalid. ``problems`` lists every problem with its path."""

    default_code = "config.invalid"

    def __init__(
        self, message: str, *, code: str | None = None, problems: list[str] | None = None
    ) -> None:
        super().__init__(message, code=code)
        self.problems = problems or []

    def to_dict(self) -> dict[str, Any]:
        return {**super().to_dict(), "problems": self.problems}


class AuthError(SyncwrightError):
    """Bad credentials, a rejected token or a signature that does not verify."""

    default_code = "auth.failed"


_KINDS: dict[str, type[SyncwrightError]] = {
    cls.__name__: cls
    for cls in (
        SyncwrightError,
        TransientError,
        BusinessRuleError,
        DependencyMissingError,
        UncertainOutcomeError,
        ConfigError,
        AuthError,
    )
}


def error_from_dict(data: dict[str, Any]) -> SyncwrightError:
    """Rebuild an error from :meth:`SyncwrightError.to_dict` (e.g. read back from durable state)."""
    kind = _KINDS.get(str(data.get("kind")), SyncwrightError)
    message = str(data.get("message", ""))
    code = data.get("code")
    if kind is TransientError:
        retry_after = data.get("retry_after")
        return TransientError(
            message, code=code, retry_after=float(retry_after) if retry_after is not None else None
        )
    if kind is DependencyMissingError:
        return DependencyMissingError(
            message,
            code=code,
            remediation=str(data.get("remediation", "")),
            waits_for={str(k): str(v) for k, v in dict(data.get("waits_for") or {}).items()},
        )
    if kind is BusinessRuleError:
        return BusinessRuleError(message, code=code, remediation=str(data.get("remediation", "")))
    if kind is ConfigError:
        return ConfigError(message, code=code, problems=list(data.get("problems") or []))
    return kind(message, code=code)
