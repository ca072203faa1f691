"""Synchronous validation against the ERP: answer within a deadline, from cache, or by policy.

DESIGN.md section 1: durable work travels as events; questions a CRM user needs answered
*before* an order is committed (credit, customer, products, tax) are synchronous reads of the
ERP, the financial truth. The ERP is often slow and sometimes down, so every answer comes
within a deadline: from the ERP, from a short-lived cache of its earlier answers, or -- when it
does not answer in time -- from a fallback policy the operator chose (``allow``, ``deny`` or
``unknown``), with a reason that says so.
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
import time
from collections import Counter
from collections.abc import Callable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass, field
from typing import Any, Final, Literal, get_args

from pydantic import ValidationError

from syncwright.connectors import Connector
from syncwright.engine import StepContext
from syncwright.errors import ConfigError, SyncwrightError, TransientError
from syncwright.ids import new_correlation_id
from syncwright.model import Account, Deal
from syncwright.validation._cache import TTLCache

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

log = logging.getLogger("syncwright.validation")

Fallback = Literal["allow", "deny", "unknown"]
Source = Literal["erp", "cache", "fallback"]
FALLBACKS: Final[tuple[str, ...]] = get_args(Fallback)
#: The checks, by the name used in ``POST /api/v1/validate/{check}``; each is the connector
#: action ``check_<name>`` of an ERP connection.
CHECKS: Final[tuple[str, ...]] = ("credit", "customer", "products", "tax")
ERP_ROLE = "erp"

_POLICY_WORDS: Final[dict[str, str]] = {
    "allow": "treated as passed without the ERP's confirmation",
    "deny": "treated as failed until the ERP can confirm; try again shortly",
    "unknown": "the result is not known; try again shortly",
}


class UnknownCheck(LookupError):
    """No check has this name (HTTP 404)."""

    def __init__(self, check: str) -> None:
        super().__init__(f"no check named {check!r}; the checks are: {', '.join(CHECKS)}")
        self.check = check

    def __str__(self) -> str:
        return str(self.args[0])


class InvalidSubject(ValueError):
    """The account / deal handed to a check is not canonical JSON (HTTP 422)."""


@dataclass(frozen=True)
class ValidationPolicy:
    """How long to wait for the ERP, how long to reuse its answers, and what to answer when it
    does not answer in time."""

    deadline_seconds: float = 2.0
    cache_ttl_seconds: float = 30.0
    fallback: Fallback = "unknown"

    def __post_init__(self) -> None:
        problems = _policy_problems(
            self.deadline_seconds, self.cache_ttl_seconds, self.fallback, where=""
        )
        if problems:
            raise ValueError("; ".join(problems))

    def overridden(self, connection: str, options: Mapping[str, Any]) -> ValidationPolicy:
        """This policy with ``connections.<connection>.options.validation`` applied."""
        raw = options.get("validation")
        if raw is None:
            return self
        where = f"connections.{connection}.options.validation"
        if not isinstance(raw, Mapping):
            raise ConfigError(
                f"connection {connection!r}: invalid validation options",
                code="config.validation_options",
                problems=[
                    f"{where}: must be a mapping (deadline_seconds, cache_ttl_seconds, fallback)"
                ],
            )
        known = ("deadline_seconds", "cache_ttl_seconds", "fallback")
        problems = [f"{where}.{key}: unknown setting" for key in raw if key not in known]
        deadline = raw.get("deadline_seconds", self.deadline_seconds)
        ttl = raw.get("cache_ttl_seconds", self.cache_ttl_seconds)
        fallback = raw.get("fallback", self.fallback)
        problems += _policy_problems(deadline, ttl, fallback, where=where + ".")
        if problems:
            raise ConfigError(
                f"connection {connection!r}: invalid validation options",
                code="config.validation_options",
                problems=problems,
            )
        return ValidationPolicy(float(deadline), float(ttl), fallback)


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _policy_problems(deadline: Any, ttl: Any, fallback: Any, *, where: str) -> list[str]:
    problems = []
    if not _number(deadline) or not 0 < deadline <= 60:
        problems.append(f"{where}deadline_seconds: must be a number of seconds in (0, 60]")
    if not _number(ttl) or ttl < 0:
        problems.append(f"{where}cache_ttl_seconds: must be a number of seconds, 0 or more")
    if fallback not in FALLBACKS:
        problems.append(f"{where}fallback: must be one of {', '.join(FALLBACKS)}")
    return problems


@dataclass(frozen=True)
class ValidationResult:
    """One answer. ``ok`` is None only from the ``unknown`` fallback; ``source`` says where it
    came from; ``erp`` is the connection asked (None when no ERP connection can run it)."""

    check: str
    ok: bool | None
    reasons: tuple[str, ...]
    source: Source
    erp: str | None
    elapsed_ms: float
    details: Mapping[str, Any] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        return {
            "check": self.check,
            "ok": self.ok,
            "reasons": list(self.reasons),
            "source": self.source,
            "erp": self.erp,
            "elapsed_ms": self.elapsed_ms,
            "details": dict(self.details),
        }


def _describe(exc: ValidationError, prefix: str) -> str:
    parts = []
    for err in exc.errors()[:8]:
        loc = ".".join(str(p) for p in (prefix, *err["loc"]) if p != "")
        parts.append(f"{loc}: {err['msg']}")
    return "; ".join(parts)


def normalize_subject(check: str, subject: Any) -> dict[str, Any]:
    """``{"account": ..., "deal": ...}`` validated with the canonical models and dumped back
    to JSON (so equal subjects hit the same cache entry); :class:`InvalidSubject` otherwise."""
    if not isinstance(subject, Mapping):
        raise InvalidSubject('the subject must be an object: {"account": {...}, "deal": {...}}')
    extra = sorted(str(key) for key in subject if key not in ("account", "deal"))
    if extra:
        raise InvalidSubject(f"unknown fields {', '.join(extra)}: send only account and deal")
    if subject.get("account") is None:
        raise InvalidSubject("account: required (a canonical Account)")
    try:
        account = Account.model_validate(subject["account"])
    except ValidationError as exc:
        raise InvalidSubject(
            f"account is not a canonical Account: {_describe(exc, 'account')}"
        ) from None
    deal: Deal | None = None
    if subject.get("deal") is not None:
        try:
            deal = Deal.model_validate(subject["deal"])
        except ValidationError as exc:
            raise InvalidSubject(
                f"deal is not a canonical Deal: {_describe(exc, 'deal')}"
            ) from None
        if deal.account_id != account.global_id:
            raise InvalidSubject(
                f"deal.account_id {deal.account_id!r} is not the account's global_id "
                f"{account.global_id!r}"
            )
    if check == "products" and deal is None:
        raise InvalidSubject("deal: the products check needs the deal and its lines")
    return {
        "account": account.model_dump(mode="json"),
        "deal": deal.model_dump(mode="json") if deal is not None else None,
    }


def _digest(subject: Mapping[str, Any]) -> str:
    text = json.dumps(subject, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()


def _answer(raw: Any, check: str, connection: str) -> dict[str, Any]:
    """The action's answer, checked: a malformed one is a bug in the connector, not a "no"."""
    if (
        not isinstance(raw, Mapping)
        or not isinstance(raw.get("ok"), bool)
        or not isinstance(raw.get("reasons", []), list)
    ):
        raise TypeError(f"check_{check} of {connection!r} answered {raw!r}, not {{ok, reasons}}")
    return {
        "ok": raw["ok"],
        "reasons": tuple(str(r) for r in raw.get("reasons", [])),
        "details": dict(raw.get("details") or {}),
    }


Key = tuple[str, str, str]


class ValidationService:
    """Runs checks on the first ERP connection (``options.role: erp``) that offers the action
    ``check_<name>``, each within a deadline.

    ``validate(check, subject)`` never waits longer than the deadline: the action runs on a
    worker thread; if it has not answered by then, or NetSuite was unavailable
    (:class:`~syncwright.errors.TransientError` and the other classified errors), the answer
    comes from the fallback policy. The ERP's answers (yes and no) are cached per (check,
    subject) for ``cache_ttl_seconds``; an answer that arrives after its deadline still fills
    the cache. Concurrent identical checks share one ERP call. Per-connection overrides:
    ``connections.<erp>.options.validation`` (``deadline_seconds``, ``cache_ttl_seconds``,
    ``fallback``).
    """

    def __init__(
        self,
        runtime: Any,
        *,
        deadline_seconds: float = 2.0,
        cache_ttl_seconds: float = 30.0,
        fallback: Fallback = "unknown",
        max_workers: int = 8,
        max_pending: int = 64,
        cache_size: int = 10_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.runtime = runtime
        self.default_policy = ValidationPolicy(deadline_seconds, cache_ttl_seconds, fallback)
        # Every ERP connection's policy, checked now: bad options stop start-up, not a request.
        self.policies: dict[str, ValidationPolicy] = {
            connector.name: self.default_policy.overridden(
                connector.name, runtime.settings.connections[connector.name].options
            )
            for connector in runtime.connections_with_role(ERP_ROLE)
        }
        self._clock = clock
        self._cache: TTLCache[dict[str, Any]] = TTLCache(cache_size, clock=clock)
        self._executor = ThreadPoolExecutor(max_workers, thread_name_prefix="validation")
        self._max_pending = max_pending
        self._lock = threading.RLock()
        self._inflight: dict[Key, Future[dict[str, Any]]] = {}
        self._counts: Counter[str] = Counter()

    # -- public -------------------------------------------------------------------------

    def erp_for(self, check: str) -> Connector | None:
        """The connection that answers ``check``: the first ERP connection offering it."""
        action = f"check_{check}"
        for connector in self.runtime.connections_with_role(ERP_ROLE):
            if connector.can(action):
                found: Connector = connector
                return found
        return None

    def validate(self, check: str, subject: Any) -> ValidationResult:
        """Answer ``check`` (one of :data:`CHECKS`) for ``subject`` (``{"account": canonical
        Account JSON, "deal": canonical Deal JSON or None}``).

        Raises :class:`UnknownCheck` and :class:`InvalidSubject`; a "no" is ``ok=False``.
        """
        started = self._clock()
        if check not in CHECKS:
            raise UnknownCheck(check)
        normalized = normalize_subject(check, subject)
        connector = self.erp_for(check)
        if connector is None:
            return self._fallback(
                check,
                started,
                None,
                self.default_policy,
                f"No ERP connection can run the {check} check (none with options.role: erp "
                f"offers check_{check})",
            )
        policy = self.policies.get(connector.name) or self.default_policy.overridden(
            connector.name, self.runtime.settings.connections[connector.name].options
        )
        key: Key = (connector.name, check, _digest(normalized))
        cached = self._cache.get(key)
        if cached is not None:
            return self._result(check, cached, "cache", connector.name, started)
        future = self._submit(key, connector, check, normalized, policy)
        if future is None:
            return self._fallback(
                check,
                started,
                connector.name,
                policy,
                f"The ERP ({connector.name}) is busy with too many checks already, so it could "
                "not answer in time",
            )
        remaining = policy.deadline_seconds - (self._clock() - started)
        try:
            answer = future.result(timeout=max(remaining, 0.0))
        except FutureTimeout:
            return self._fallback(
                check,
                started,
                connector.name,
                policy,
                f"The ERP ({connector.name}) did not answer within {policy.deadline_seconds:g} s",
            )
        except TransientError as exc:
            return self._fallback(
                check,
                started,
                connector.name,
                policy,
                f"The ERP ({connector.name}) did not answer in time (unavailable: {exc.code})",
            )
        except SyncwrightError as exc:
            log.warning("validation %s on %s: %s", check, connector.name, exc)
            return self._fallback(
                check,
                started,
                connector.name,
                policy,
                f"The ERP ({connector.name}) could not answer ({exc.code})",
            )
        return self._result(check, answer, "erp", connector.name, started)

    def stats(self) -> dict[str, int]:
        """Answers given by source, checks waiting for the ERP, and live cache entries."""
        with self._lock:
            return {
                "erp": self._counts["erp"],
                "cache": self._counts["cache"],
                "fallback": self._counts["fallback"],
                "pending": len(self._inflight),
                "cached": len(self._cache),
            }

    def clear_cache(self) -> None:
        self._cache.clear()

    def close(self) -> None:
        """Stop the worker threads (a call still waiting on the ERP finishes on its own)."""
        self._executor.shutdown(wait=False, cancel_futures=True)

    def __enter__(self) -> ValidationService:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- internals ----------------------------------------------------------------------

    def _submit(
        self,
        key: Key,
        connector: Connector,
        check: str,
        subject: dict[str, Any],
        policy: ValidationPolicy,
    ) -> Future[dict[str, Any]] | None:
        """The ERP call for ``key``: the one already running (single flight), or a new one;
        None when too many are waiting (a slow ERP must not pile up threads and requests)."""
        with self._lock:
            future = self._inflight.get(key)
            if future is not None:
                return future
            if len(self._inflight) >= self._max_pending:
                return None
            future = self._executor.submit(self._ask, key, connector, check, subject, policy)
            self._inflight[key] = future
        future.add_done_callback(lambda done: self._forget(key, done))
        return future

    def _forget(self, key: Key, future: Future[dict[str, Any]]) -> None:
        with self._lock:
            if self._inflight.get(key) is future:
                del self._inflight[key]

    def _ask(
        self,
        key: Key,
        connector: Connector,
        check: str,
        subject: dict[str, Any],
        policy: ValidationPolicy,
    ) -> dict[str, Any]:
        account_id = subject["account"]["global_id"]
        ctx = StepContext(
            workflow_id="validation",
            workflow="validation",
            step=f"validate.{check}",
            attempt=1,
            correlation_id=new_correlation_id(),
            entity_key=f"account:{account_id}",
            timeout_seconds=policy.deadline_seconds,
            services=self.runtime,
        )
        action = connector.action(f"check_{check}")
        answer = _answer(action.run(ctx, connector.name, subject), check, connector.name)
        # Cached here, not by the caller: an answer that comes after the deadline still
        # spares the next caller a trip to the ERP.
        self._cache.put(key, answer, policy.cache_ttl_seconds)
        return answer

    def _elapsed_ms(self, started: float) -> float:
        return round((self._clock() - started) * 1000, 1)

    def _result(
        self,
        check: str,
        answer: Mapping[str, Any],
        source: Source,
        erp: str,
        started: float,
    ) -> ValidationResult:
        with self._lock:
            self._counts[source] += 1
        return ValidationResult(
            check=check,
            ok=answer["ok"],
            reasons=tuple(answer["reasons"]),
            source=source,
            erp=erp,
            elapsed_ms=self._elapsed_ms(started),
            details=answer["details"],
        )

    def _fallback(
        self,
        check: str,
        started: float,
        erp: str | None,
        policy: ValidationPolicy,
        why: str,
    ) -> ValidationResult:
        ok: bool | None = {"allow": True, "deny": False, "unknown": None}[policy.fallback]
        reason = (
            f"{why}, so the fallback policy {policy.fallback!r} applied: "
            f"{_POLICY_WORDS[policy.fallback]}."
        )
        with self._lock:
            self._counts["fallback"] += 1
        return ValidationResult(
            check=check,
            ok=ok,
            reasons=(reason,),
            source="fallback",
            erp=erp,
            elapsed_ms=self._elapsed_ms(started),
            details={"fallback": policy.fallback},
        )
