"""Canonical state for connector tests: what the policy gate would hold for an account once
the CRM's events ran (the ERP-source normalizers compare against it)."""

from __future__ import annotations

from typing import Any

from syncwright.runtime import Runtime


def set_account_state(runtime: Runtime, account: dict[str, Any]) -> None:
    """The canonical state of ``account``, as the CRM's events would have left it."""
    store = runtime.policy_store
    with store.begin() as conn:
        store.save_state(
            conn,
            "account",
            account["global_id"],
            previous=store.state(conn, "account", account["global_id"]),
            data=account,
            source_connection="crm",
            source_time=None,
            versions={},
            applied={},
            recent={},
        )
