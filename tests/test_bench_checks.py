"""The benchmarks' own checks (bench/_e2e.py): a bench prints errors instead of a figure when a
delivery was not answered 2xx or an event's ERP record is missing, doubled or unexpected. Here
those checks are shown to catch each case against the real recording stub; no bench runs."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from syncwright.connectors.example.client import ExampleErpClient

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))
from _e2e import Sent, Stub, check_writes, customer_name, send


@pytest.fixture(scope="module")
def stub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stub]:
    started = Stub(tmp_path_factory.mktemp("stub") / "stub.log")
    yield started
    started.stop()


def test_the_stub_records_both_sides_writes_and_the_check_finds_loss_duplicates_strays(
    stub: Stub,
) -> None:
    names = [customer_name("chk", n) for n in range(3)]
    # n8n's HTTP Request node: POST /customers with the mapped record.
    posted = httpx.post(f"{stub.url}/customers", json={"external_ref": "cus_0", "name": names[0]})
    assert posted.status_code == 201
    # syncwright's example connector, unchanged, against the stub.
    client = ExampleErpClient(stub.url, "token")
    try:
        for _ in range(2):  # the same customer twice: a duplicate
            record = client.upsert_customer(
                "acc_1", {"name": names[1]}, idempotency_key="k1", timeout=10
            )
            assert record["id"] == "acc_1"
        client.upsert_customer("acc_9", {"name": "stray"}, idempotency_key="k9", timeout=10)
    finally:
        client.close()

    records = [r for r in stub.fetch() if r[2] in {*names, "stray"}]
    assert [(api, name) for _, api, name in records] == [
        ("post", names[0]),
        ("put", names[1]),
        ("put", names[1]),
        ("put", "stray"),
    ]
    problems = check_writes(records, names)
    assert len(problems) == 3, problems
    assert "1 events never written" in problems[0] and names[2] in problems[0]
    assert "1 events written more than once" in problems[1] and names[1] in problems[1]
    assert "1 unexpected records" in problems[2] and "stray" in problems[2]
    assert check_writes(records[:2], names[:2]) == []


def test_a_delivery_not_answered_2xx_is_a_problem_not_a_figure(stub: Stub) -> None:
    # The stub refuses a shop event (no top-level name): every answer is a 400.
    sent = send(f"{stub.url}/customers", "refused", 3, connections=2)
    assert sent.statuses == {400: 3}
    assert sent.problems() == ["non-2xx answers: {400: 3}", "0 of 3 deliveries answered 2xx"]
    assert stub.stats()["bad"] >= 3

    unreachable = Sent(2, errors=["ConnectError: refused"])
    unreachable.statuses[202] = 1
    assert unreachable.problems() == [
        "1 requests failed (e.g. ['ConnectError: refused'])",
        "1 of 2 deliveries answered 2xx",
    ]
