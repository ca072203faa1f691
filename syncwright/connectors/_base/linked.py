"""Looking up the vendor record an action works on, by the cross-reference, with the errors
every connector raises alike when it is not there.

- :func:`linked_native_id`: a read's record must be linked (``<vendor>.<entity>_unlinked``,
  parked: the event came from elsewhere, or the record was never matched);
- :func:`customer_to_update`: a write to an account's customer waits for the link
  (``<vendor>.customer_unlinked``, a dependency: billing may create the customer yet);
- :func:`refuse_unknown_keys`: an update names only keys the action knows.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from syncwright.errors import BusinessRuleError, DependencyMissingError

if TYPE_CHECKING:
    from syncwright.engine import StepContext

__all__ = ["customer_to_update", "linked_native_id", "refuse_unknown_keys"]


def linked_native_id(
    ctx: StepContext, entity_type: str, global_id: str, connection: str, *, vendor: str, label: str
) -> str:
    """The native id ``global_id`` is linked to on ``connection``."""
    native = ctx.services.xref.native_id_for(entity_type, global_id, connection)
    if native is None:
        raise BusinessRuleError(
            f"{entity_type} {global_id} has no {label} record on connection {connection!r}",
            code=f"{vendor}.{entity_type}_unlinked",
            remediation=f"The {entity_type} is not linked to a {label} record on this "
            "connection (it did not come from there, or was never matched). Link it in the "
            "cross-reference or check the event's source (syncwright trace), then retry.",
        )
    return str(native)


def customer_to_update(
    ctx: StepContext, connection: str, account_id: str, *, vendor: str, label: str
) -> str:
    """The native id of the customer linked to ``account_id``; the step waits for the link."""
    native = ctx.services.xref.native_id_for("account", account_id, connection)
    if native is None:
        raise DependencyMissingError(
            f"account {account_id} has no {label} customer on {connection}",
            code=f"{vendor}.customer_unlinked",
            remediation=f"Link account {account_id} to its {label} customer (or let billing "
            "create it), then retry.",
            waits_for={"entity_type": "account", "global_id": account_id, "system": connection},
        )
    return str(native)


def refuse_unknown_keys(
    action: str, fields: Mapping[str, Any], known: Iterable[str], *, vendor: str
) -> None:
    """A ``BusinessRuleError`` naming the keys of ``fields`` that ``action`` cannot write."""
    allowed = list(known)
    unknown = sorted(set(fields) - set(allowed))
    if unknown:
        raise BusinessRuleError(
            f"{action} cannot write {', '.join(unknown)}",
            code=f"{vendor}.update_key_unknown",
            remediation=f"{action} takes {', '.join(allowed)}; fix the workflow that called it, "
            "then retry.",
        )
