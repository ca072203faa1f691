"""The plumbing every connector's outbound steps share: find the step's connection and check its
vendor, bound a call by the tighter timeout, validate the canonical JSON handed to the step, and
build the ``ledger`` block a step returns.

Steps are ``(StepContext, connection, *args) -> JSON``; see ``connectors/example/outbound.py``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, TypeVar, cast

from pydantic import BaseModel, ValidationError

from syncwright.connectors._base.connector import Connector
from syncwright.errors import BusinessRuleError, ConfigError
from syncwright.ledger import request_digest

if TYPE_CHECKING:
    from syncwright.engine import StepContext
    from syncwright.model import Account, Entitlement

__all__ = [
    "audit_write",
    "build_inbound",
    "call_timeout",
    "connector_for",
    "differing",
    "ledger_block",
    "parse_canonical",
    "parse_entitlement",
    "partial_write_result",
]

C = TypeVar("C", bound=Connector)
M = TypeVar("M", bound=BaseModel)


def connector_for(ctx: StepContext, connection: str, cls: type[C], *, label: str) -> C:
    """The connector behind ``connection``, which must be of ``cls.vendor``; ``label`` is the
    vendor's name as people write it (``"NetSuite"``), for the error."""
    connector = ctx.services.connection(connection)
    vendor = cls.vendor
    if getattr(connector, "vendor", None) != vendor:
        raise ConfigError(
            f"connection {connection!r} is not a {label} connection",
            code="config.wrong_vendor",
            problems=[f"connections.{connection}.vendor: must be {vendor} for this step"],
        )
    return cast(C, connector)


def differing(
    body: Mapping[str, Any], held: Mapping[str, Any], same: Callable[[Any, Any], bool]
) -> dict[str, Any]:
    """The part of ``body`` a record holding ``held`` does not hold yet (read-compare-write:
    a write sends only this, so a retry or a replay of the same values sends nothing and
    causes no change event; a probe finds the write landed when it is empty)."""
    return {name: value for name, value in body.items() if not same(value, held.get(name))}


def partial_write_result(
    connection: str,
    entity_type: str,
    global_id: str,
    native_id: str,
    written: Mapping[str, Any],
    skipped: list[str],
    *,
    mapping_version: str,
) -> dict[str, Any]:
    """The result of a read-compare-write step: the record, what it ``written`` (only what
    differed), the keys ``skipped`` because the record has no field for them, and the
    ``ledger`` block with the mapping version that shaped the body."""
    return {
        "native_id": native_id,
        "written": dict(written),
        "skipped": skipped,
        "ledger": ledger_block(
            connection,
            entity_type,
            global_id,
            native_id,
            dict(written),
            mapping_version=mapping_version,
        ),
    }


def call_timeout(ctx: StepContext, connector: Connector) -> float:
    """The tighter of the step's own timeout and the connection's request timeout."""
    return min(float(ctx.timeout_seconds), float(connector.settings.limits.timeout_seconds))


def parse_canonical(
    model: type[M],
    data: Any,
    what: str,
    *,
    vendor: str,
    label: str,
    retry_hint: str = "then retry the exception",
) -> M:
    """``data`` validated as a canonical ``model``; a bad one parks the step with
    ``<vendor>.invalid_canonical`` (a ``ValidationError`` would surface as an unclassified bug).
    ``label`` names the vendor in the message, ``retry_hint`` ends the remediation."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        problems = _problems(exc, what)
        raise BusinessRuleError(
            f"the {what} handed to the {label} step is not a valid canonical {what}: {problems}",
            code=f"{vendor}.invalid_canonical",
            remediation=(
                f"The workflow sent a malformed {what}; fix the source record or the mapping "
                f"that built it, {retry_hint}."
            ),
        ) from exc


def build_inbound(model: type[M], where: str, *, vendor: str, label: str, **fields: Any) -> M:
    """A canonical record built from a vendor's record (``where``: ``Stripe invoice in_1``); a
    validator the vendor's data cannot satisfy parks the delivery with
    ``<vendor>.mapping_invalid`` naming the rule, so the record is corrected at its source."""
    try:
        return model(**fields)
    except ValidationError as exc:
        raise BusinessRuleError(
            f"{where} does not make a valid canonical {model.__name__}: "
            f"{_problems(exc, model.__name__)}",
            code=f"{vendor}.mapping_invalid",
            remediation=f"Correct {where} in {label} so that it satisfies the rule named in the "
            f"message ({label} then sends an event that syncs it), or resolve this exception to "
            "discard this event.",
        ) from exc


def _problems(exc: ValidationError, fallback: str) -> str:
    """Each failed rule as ``field.path: message`` (``fallback`` for a model-level rule)."""
    return "; ".join(
        f"{'.'.join(str(p) for p in err['loc']) or fallback}: {err['msg']}" for err in exc.errors()
    )


def parse_entitlement(
    entitlement: Any,
    account: Any,
    *,
    vendor: str,
    label: str,
    retry_hint: str = "then retry the exception",
) -> tuple[Entitlement, Account]:
    """A support desk step's canonical entitlement and the account it belongs to, validated
    (``<vendor>.invalid_canonical``) and checked to belong together
    (``<vendor>.entitlement_account_mismatch``): both park the step with remediation."""
    from syncwright.model import Account, Entitlement

    parsed = parse_canonical(
        Entitlement, entitlement, "entitlement", vendor=vendor, label=label, retry_hint=retry_hint
    )
    owner = parse_canonical(
        Account, account, "account", vendor=vendor, label=label, retry_hint=retry_hint
    )
    if parsed.account_id != owner.global_id:
        raise BusinessRuleError(
            f"entitlement {parsed.global_id} belongs to account {parsed.account_id}, not to "
            f"account {owner.global_id}",
            code=f"{vendor}.entitlement_account_mismatch",
            remediation=(
                "The workflow paired an entitlement with another account; fix the workflow or "
                "the event that started it, then retry (or resolve) the exception."
            ),
        )
    return parsed, owner


def ledger_block(
    connection: str,
    entity_type: str,
    global_id: str,
    native_id: Any,
    body: Any,
    *,
    mapping_version: str,
    fields: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The ``ledger`` block of a step's result: what it touched, and a digest of what it sent.

    ``fields`` are the canonical fields of ``entity_type`` the step wrote (name -> canonical JSON
    value, e.g. the account it upserted). Their digests are remembered once the step succeeds,
    so the same values coming back from that system are recognised as our echo
    (``syncwright/policy``)."""
    block: dict[str, Any] = {
        "connection": connection,
        "entity_type": entity_type,
        "global_id": global_id,
        "native_ids": {connection: native_id},
        "request_digest": request_digest(body),
        "mapping_version": mapping_version,
    }
    if fields is not None:
        block["fields"] = {
            name: request_digest(value) for name, value in fields.items() if name != "global_id"
        }
    return block


def audit_write(
    ctx: StepContext,
    connection: str,
    action: str,
    native_id: Any,
    body: Any,
    *,
    amount_minor: int | None = None,
    currency: str | None = None,
) -> None:
    """Declare a financially relevant write this step made (an ERP invoice, a subscription, an
    entitlement change...): ``action`` like ``netsuite.invoice.upsert``, what was written
    (digested, never stored) and its amount. The runtime records it in the audit trail once per
    run when the attempt ends; connectors never write audit rows themselves."""
    ctx.audit_writes.append(
        {
            "connection": connection,
            "action": action,
            "native_id": None if native_id is None else str(native_id),
            "payload_digest": request_digest(body),
            "amount_minor": amount_minor,
            "currency": currency,
        }
    )
