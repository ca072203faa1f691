"""Actions on the example ERP, written as engine steps: ``(StepContext, *args) -> JSON``.

Each returns a ``ledger`` block so the step's ledger row carries the native ids it touched, and
the canonical fields a write sent (``fields=``), so the policy recognises them when the system
reports them back (echo suppression, ``docs/policy.md``).
"""

from __future__ import annotations

from typing import Any

from syncwright.connectors._base import call_timeout, ledger_block
from syncwright.engine import StepContext

# The canonical account fields the ERP customer carries (see _erp_body).
_WRITTEN = ("name", "billing_email", "currency", "subsidiary")


def _erp_body(account: dict[str, Any]) -> dict[str, Any]:
    return {
        "name": account.get("name"),
        "email": account.get("billing_email"),
        "currency": account.get("currency"),
        "subsidiary": account.get("subsidiary"),
    }


def _result(
    ctx: StepContext, connection: str, account: dict[str, Any], record: dict[str, Any]
) -> dict[str, Any]:
    ctx.services.xref.link("account", account["global_id"], connection, str(record["id"]))
    return {
        "native_id": record["id"],
        "version": record["version"],
        "ledger": ledger_block(
            connection,
            "account",
            account["global_id"],
            record["id"],
            _erp_body(account),
            mapping_version="example-erp/1",
            fields={name: account.get(name) for name in _WRITTEN},
        ),
    }


def _timeout(ctx: StepContext, connection: str) -> float:
    return call_timeout(ctx, ctx.services.connection(connection))


def upsert_account(ctx: StepContext, connection: str, account: dict[str, Any]) -> dict[str, Any]:
    client = ctx.services.connection(connection).client
    record = client.upsert_customer(
        account["global_id"],
        _erp_body(account),
        idempotency_key=ctx.idempotency_key,
        timeout=_timeout(ctx, connection),
    )
    return _result(ctx, connection, account, record)


def probe_account(
    ctx: StepContext, connection: str, account: dict[str, Any]
) -> dict[str, Any] | None:
    """After an uncertain write: did the ERP apply *this* version? (name and fields match)."""
    client = ctx.services.connection(connection).client
    record = client.get_customer(account["global_id"], timeout=_timeout(ctx, connection))
    if record is None:
        return None
    wanted = _erp_body(account)
    if any(record.get(k) != v for k, v in wanted.items()):
        return None
    return _result(ctx, connection, account, record)


def delete_account(
    ctx: StepContext, written: dict[str, Any], connection: str, account: dict[str, Any]
) -> None:
    """Compensation for :func:`upsert_account`: remove the customer it created."""
    client = ctx.services.connection(connection).client
    client.delete_customer(account["global_id"], timeout=_timeout(ctx, connection))
