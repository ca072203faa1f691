"""The example connector (the template) passes the connector contract against the example ERP
emulator. The example vendor is ours, so its "own sample payloads" are the ones its README
documents."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from syncwright.connectors import Delivery
from syncwright.connectors.example.signature import HEADER, sign
from syncwright.runtime import Runtime
from syncwright.sandbox import FaultInjector, FaultPlan, ServerThread
from syncwright.sandbox._server import free_port
from syncwright.sandbox.example import ExampleErpState, create_app
from tests.contract.conftest import delivery, runtime_from, step_context
from tests.contract.connector_contract import ActionScript, ConnectorContract, ContractWorld

SECRET = "whsec_contract_example_secret"
TOKEN = "erp-contract-token-secret"
CONFIG = """\
  shop:
    vendor: example
    base_url: {url}
    credentials: {{token: 'file:secrets/token'}}
    webhook: {{secrets: ['file:secrets/hook']}}
    limits: {{timeout_seconds: 5}}
    options: {{poll_streams: [events], page_size: 2, default_subsidiary: US}}
"""


def account(gid: str, **changes: Any) -> dict[str, Any]:
    return {"global_id": gid, "name": f"Client {gid}", "currency": "USD", **changes}


class TestExampleConnector(ConnectorContract):
    required_actions = frozenset({"upsert_account"})

    @pytest.fixture
    def erp(self) -> Iterator[tuple[ServerThread, ExampleErpState, FaultInjector]]:
        state, faults = ExampleErpState(token=TOKEN), FaultInjector()
        with ServerThread(create_app(state, faults=faults)) as server:
            yield server, state, faults

    @pytest.fixture
    def runtime(
        self, tmp_path: Path, erp: tuple[ServerThread, ExampleErpState, FaultInjector]
    ) -> Iterator[Runtime]:
        runtime = runtime_from(
            tmp_path, CONFIG.format(url=erp[0].url), {"hook": SECRET, "token": TOKEN}
        )
        yield runtime
        runtime.close()

    @pytest.fixture
    def world(self, runtime: Runtime) -> ContractWorld:
        return ContractWorld(runtime.connection("shop"), lambda step: step_context(runtime, step))

    @pytest.fixture
    def secrets(self) -> list[str]:
        return [SECRET, TOKEN]

    @pytest.fixture
    def action_script(self) -> ActionScript:
        return [("upsert_account", (account("acct_1", subsidiary="UK"),))]

    @pytest.fixture
    def error_cases(
        self,
        world: ContractWorld,
        runtime: Runtime,
        tmp_path: Path,
        erp: tuple[ServerThread, ExampleErpState, FaultInjector],
    ) -> Iterator[dict[str, Callable[[], Any]]]:
        server, state, faults = erp
        upsert = world.connector.action("upsert_account").run

        def run(record: dict[str, Any], on: Runtime = runtime, step: str = "x") -> Any:
            return upsert(step_context(on, step), "shop", record)

        def wrong_token() -> Any:
            other = runtime_from(
                tmp_path / "wrong", CONFIG.format(url=server.url), {"hook": SECRET, "token": "no"}
            )
            try:
                return run(account("acct_a"), other)
            finally:
                other.close()

        def rate_limited() -> Any:
            state.requests_per_second = 1
            try:
                for n in range(5):
                    run(account(f"acct_r{n}"), step=f"r{n}")
            finally:
                state.requests_per_second = None

        def unavailable() -> Any:
            faults.configure(FaultPlan(error_5xx_rate=1.0))
            try:
                return run(account("acct_u"))
            finally:
                faults.configure(FaultPlan())

        def conflict() -> Any:
            run(account("acct_c"), step="same")
            ctx = step_context(runtime, "same")
            ctx_again = type(ctx)(**{**ctx.__dict__, "workflow_id": "wf-contract-fixed"})
            upsert(ctx_again, "shop", account("acct_c"))
            return upsert(ctx_again, "shop", account("acct_c", name="Changed"))

        yield {
            "UNAUTHORIZED": wrong_token,
            "RATE_LIMITED": rate_limited,
            "UNAVAILABLE": unavailable,
            "MISSING_FIELD": lambda: run(account("acct_m", currency=None)),
            "UNKNOWN_SUBSIDIARY": lambda: run(account("acct_s", subsidiary="Atlantis")),
            "IDEMPOTENCY_CONFLICT": conflict,
        }

    @pytest.fixture
    def new_stream_event(
        self, erp: tuple[ServerThread, ExampleErpState, FaultInjector]
    ) -> Callable[[], None]:
        server = erp[0]
        count = iter(range(1_000))

        def write() -> None:
            n = next(count)
            httpx.put(
                f"{server.url}/api/customers/acct_poll{n}",
                json={"name": f"Polled {n}", "currency": "USD", "subsidiary": "US"},
                headers={"Authorization": f"Bearer {TOKEN}", "Idempotency-Key": f"poll-{n}"},
                trust_env=False,
                timeout=10,
            ).raise_for_status()

        for _ in range(3):  # more than one page (page_size 2) before the cursor
            write()
        return write

    @pytest.fixture
    def signed_webhook(self) -> tuple[bytes, dict[str, str]]:
        body = b'{"id": "evt_1", "type": "customer.updated"}'
        return body, {HEADER: sign(body, SECRET)}

    @pytest.fixture
    def vendor_samples(self) -> list[Delivery]:
        # The payload the example shop documents (connectors/example/README.md).
        body = {
            "id": "evt_c1",
            "type": "customer.updated",
            "data": {"customer": {"id": "c1", "name": "Ada Ltd", "currency": "USD"}},
        }
        return [delivery("shop", "evt_c1", "customer.updated", json.dumps(body).encode())]

    @pytest.fixture
    def ignored_delivery(self) -> Delivery:
        return delivery(
            "shop", "evt_o1", "order.created", b'{"id": "evt_o1", "type": "order.created"}'
        )

    @pytest.fixture
    def malformed_delivery(self) -> Delivery:
        body = b'{"id": "evt_m1", "type": "customer.updated", "data": {"customer": {}}}'
        return delivery("shop", "evt_m1", "customer.updated", body)


def test_unreachable_erp_is_transient(tmp_path: Path) -> None:
    """The one failure no status code documents: nothing listens."""
    from syncwright.errors import TransientError

    runtime = runtime_from(
        tmp_path,
        CONFIG.format(url=f"http://127.0.0.1:{free_port()}"),
        {"hook": SECRET, "token": TOKEN},
    )
    try:
        upsert = runtime.connection("shop").action("upsert_account").run
        with pytest.raises(TransientError) as raised:
            upsert(step_context(runtime, "x"), "shop", account("acct_x"))
        assert raised.value.code == "example.network"
    finally:
        runtime.close()
