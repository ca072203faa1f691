"""Echo suppression wired end to end: a real outbound step writes to the example ERP emulator,
the engine's ledger hook remembers the canonical fields its ``ledger`` block names, and the
ERP reporting that value back through the inbox and the dispatcher is dropped as an echo --
even after the CRM has moved on (the ping-pong case)."""

from __future__ import annotations

import json
from pathlib import Path

from syncwright.config import load_settings
from syncwright.engine import StepContext
from syncwright.intake.dispatcher import Dispatcher
from syncwright.runtime import Runtime
from syncwright.runtime_hooks import LedgerHooks
from tests._support import Erp, customer_event, write_config


def _accept(runtime: Runtime, connection: str, event_id: str, body: bytes) -> int:
    result = runtime.inbox.accept(
        connection=connection,
        vendor_event_id=event_id,
        event_type="customer.updated",
        body=body.decode(),
        origin="poll",
    )
    assert result.inbox_id is not None
    return result.inbox_id


def test_the_erp_reporting_our_write_back_is_an_echo(
    tmp_path: Path, sqlite_url: str, erp: Erp
) -> None:
    config = write_config(tmp_path, db_url=sqlite_url, erp_url=erp.url)
    with Runtime(load_settings(config)) as runtime:
        engine = runtime.start_engine(run_workflows=False)  # enqueue only: no run races us
        dispatcher = Dispatcher(runtime)
        _accept(runtime, "shop", "evt_1", customer_event("evt_1", "cust_1", name="Acme"))
        assert dispatcher.dispatch_pending().workflows_started == 1
        global_id = runtime.xref.global_id_for("account", "shop", "cust_1")
        assert global_id is not None
        state = runtime.policy_store.get_state("account", global_id)
        assert state is not None

        # The account sync's ERP write, as the engine runs it: the step, then the ledger hook.
        ctx = StepContext(
            workflow_id="wf-test",
            workflow="account.sync_to_erp",
            step="erp.upsert_account",
            attempt=1,
            correlation_id="cor_test",
            entity_key=f"account:{global_id}",
            timeout_seconds=10.0,
            services=runtime,
        )
        result = runtime.connection("erp").action("upsert_account").run(ctx, "erp", state.data)
        LedgerHooks(
            runtime.ledger, runtime.exceptions, policy=runtime.policy_store
        ).attempt_finished(ctx, "ok", None, 5.0, result)
        native = str(result["native_id"])
        assert erp.state.customers[global_id]["name"] == "Acme"

        # The shop renames the customer; then the ERP's feed reports the old name we wrote.
        _accept(runtime, "shop", "evt_2", customer_event("evt_2", "cust_1", name="Acme Two"))
        echo = json.loads(customer_event("erp_1", native, name="Acme"))
        echo["data"]["customer"]["email"] = "cust_1@example.com"  # what we wrote there
        echo_row = _accept(runtime, "erp", "erp_1", json.dumps(echo).encode())
        report = dispatcher.dispatch_pending()
        assert report.dispatched == 2 and report.workflows_started == 1  # the rename only
        [decision] = runtime.policy_store.decisions(kind="echo")
        assert decision.connection == "erp" and decision.inbox_id == echo_row
        assert "name" in (decision.detail or "")
        state = runtime.policy_store.get_state("account", global_id)
        assert state is not None and state.data["name"] == "Acme Two"
        skipped = [e for e in runtime.ledger.recent(20) if e.step == "policy.echo"]
        assert len(skipped) == 1 and skipped[0].outcome == "skipped"
        assert len(engine.statuses()) == 2
