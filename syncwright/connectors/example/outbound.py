"""Actions on the example ERP as engine steps: ``(StepContext, connection, *args) -> JSON``.

Each returns a ``ledger`` block so the step's ledger row carries the native ids it touched, and
the canonical fields a write sent (``fields=``), so the policy recognises them when the system
reports them back (echo suppression, ``docs/policy.md``). A write has a probe (did the ERP apply
*this* version?) and, where it can be undone, a compensation.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from syncwright.connectors import call_timeout, connector_for, ledger_block
from syncwright.engine import StepContext

if TYPE_CHECKING:  # the connector imports this module to declare its actions
    from syncwright.connectors.example.connector import ExampleConnector

# The canonical account fields the ERP customer carries (see _erp_body).
_WRITTEN = ("name", "billing_email", "currency", "subsidiary")


MAPPING_VERSION = "example-erp/1"


def _connector(ctx: StepContext, connection: str) -> ExampleConnector:
    from syncwright.connectors.example.connector import ExampleConnector

    return connector_for(ctx, connection, ExampleConnector, label="example ERP")


def _erp_body(account: dict[str, Any], connector: ExampleConnector) -> dict[str, Any]:
    return {
        "name": account.get("name"),
        "email": account.get("billing_email"),
        "currency": account.get("currency"),
        "subsidiary": account.get("subsidiary") or connector.options.default_subsidiary,
    }


def _result(
    ctx: StepContext,
    connector: ExampleConnector,
    account: dict[str, Any],
    record: dict[str, Any],
) -> dict[str, Any]:
    ctx.services.xref.link("account", account["global_id"], connector.name, str(record["id"]))
    return {
        "native_id": record["id"],
        "version": record["version"],
        "ledger": ledger_block(
            connector.name,
            "account",
            account["global_id"],
            record["id"],
            _erp_body(account, connector),
            mapping_version=MAPPING_VERSION,
            fields={name: account.get(name) for name in _WRITTEN},
        ),
    }


def upsert_account(ctx: StepContext, connection: str, account: dict[str, Any]) -> dict[str, Any]:
    connector = _connector(ctx, connection)
    record = connector.client.upsert_customer(
        account["global_id"],
        _erp_body(account, connector),
        idempotency_key=ctx.idempotency_key,
        timeout=call_timeout(ctx, connector),
    )
    return _result(ctx, connector, account, record)


def probe_account(
    ctx: StepContext, connection: str, account: dict[str, Any]
) -> dict[str, Any] | None:
    """After an uncertain write: did the ERP apply *this* version? (name and fields match)."""
    connector = _connector(ctx, connection)
    record = connector.client.get_customer(
        account["global_id"], timeout=call_timeout(ctx, connector)
    )
    if record is None:
        return None
    wanted = _erp_body(account, connector)
    if any(record.get(k) != v for k, v in wanted.items()):
        return None
    return _result(ctx, connector, account, record)


def delete_account(
    ctx: StepContext, written: dict[str, Any], connection: str, account: dict[str, Any]
) -> None:
    """Compensation for :func:`upsert_account`: remove the customer it created."""
    connector = _connector(ctx, connection)
    connector.client.delete_customer(account["global_id"], timeout=call_timeout(ctx, connector))
