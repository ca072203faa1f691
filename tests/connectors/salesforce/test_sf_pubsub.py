"""The ``cdc`` stream over the Pub/Sub API: the connector against the emulator's gRPC server
(TLS with the emulator's certificate), through the real Poller, inbox and cursor store."""

from __future__ import annotations

import json
import queue
import ssl
import sys
from pathlib import Path
from typing import Any

import grpc
import httpx
import pytest
from simple_salesforce import Salesforce

from syncwright._vendor_proto.salesforce_pubsub import pubsub_api_pb2 as pb
from syncwright._vendor_proto.salesforce_pubsub import pubsub_api_pb2_grpc as pb_grpc
from syncwright.config import load_settings
from syncwright.connectors.salesforce.pubsub import require
from syncwright.errors import ConfigError
from syncwright.intake.cursors import CursorStore
from syncwright.intake.poller import Poller
from syncwright.runtime import Runtime
from syncwright.sandbox.salesforce._pubsub import CORRUPTED_REPLAY, PubSubServer, replay_bytes
from tests.connectors.salesforce._support import (
    CONNECTION,
    Org,
    normalize_pending,
    write_sf_config,
)


def _runtime(directory: Path, org: Org, endpoint: str, **options: Any) -> Runtime:
    path = directory / "syncwright.yaml"
    if not path.exists():
        directory.mkdir(exist_ok=True)
        write_sf_config(
            directory,
            url=org.url,
            certfile=org.certfile,
            options={"pubsub_endpoint": endpoint, "pubsub_wait_seconds": 30, **options},
        )
    return Runtime(load_settings(path))


def _bodies(runtime: Runtime) -> list[dict[str, Any]]:
    return [json.loads(row.body) for row in runtime.inbox.pending(10_000)]


def _stub(org: Org, endpoint: str) -> tuple[Any, grpc.Channel]:
    creds = grpc.ssl_channel_credentials(Path(org.certfile).read_bytes())
    channel = grpc.secure_channel(endpoint, creds)
    return pb_grpc.PubSubStub(channel), channel  # type: ignore[no-untyped-call]


def _auth(org: Org, token: str | None = None) -> tuple[tuple[str, str], ...]:
    return (
        ("accesstoken", token or org.state.issue_token()),
        ("instanceurl", org.url),
        ("tenantid", org.state.org_id),
    )


def test_record_changes_reach_the_inbox_as_change_events(
    tmp_path: Path, org: Org, sf: Salesforce, pubsub: PubSubServer
) -> None:
    runtime = _runtime(tmp_path / "rt", org, pubsub.endpoint)
    try:
        account = sf.Account.create(
            {
                "Name": "Acme",
                "BillingStreet": "1 Main St",
                "BillingCity": "Oslo",
                "BillingCountry": "NO",
            }
        )["id"]
        sf.Contact.create({"LastName": "not mapped", "AccountId": account})
        sf.Account.update(account, {"BillingCity": "Bergen", "Phone": None})
        report = Poller(runtime).poll_once(CONNECTION, "cdc")
        # The contact's event moved the cursor but was not stored.
        assert (report.read, report.accepted) == (2, 2)
        created, updated = _bodies(runtime)
        assert created["payload"]["ChangeEventHeader"]["changeType"] == "CREATE"
        assert created["payload"]["Name"] == "Acme"
        assert created["payload"]["BillingAddress"]["City"] == "Oslo"
        head = updated["payload"]["ChangeEventHeader"]
        # Bitmaps decoded into names; a compound field's part named through its parent.
        assert head["recordIds"] == [account]
        assert set(head["changedFields"]) == {"BillingAddress.City", "LastModifiedDate"}
        assert updated["payload"]["BillingAddress"]["City"] == "Bergen"
        assert "Name" not in updated["payload"]  # unchanged: null in Avro, left out
        cursor = CursorStore(runtime.db).get(CONNECTION, "cdc")
        assert cursor == replay_bytes(org.state.events.latest_replay_id).hex()
        # Caught up: the keepalive ends the next poll with nothing.
        assert Poller(runtime).poll_once(CONNECTION, "cdc").read == 0
        # The stored deliveries normalize like any CDC event: canonical account events.
        types = [e.type for e in normalize_pending(runtime)]
        assert types == ["syncwright.account.upserted.v1"] * 2
    finally:
        runtime.close()


def test_cdc_start_at_new_events_only(tmp_path: Path, org: Org, pubsub: PubSubServer) -> None:
    runtime = _runtime(tmp_path / "rt", org, pubsub.endpoint, cdc_start_replay_id=-1)
    try:
        connector = runtime.connection(CONNECTION)
        org.state.insert("Account", {"Name": "Old"})
        first = connector.poll("cdc", None)  # LATEST: where "now" is, from the keepalive
        assert first.events == [] and first.cursor == replay_bytes(org.mark()).hex()
        org.state.insert("Account", {"Name": "New"})
        (new,) = connector.poll("cdc", first.cursor).events
        assert json.loads(new.body)["payload"]["Name"] == "New"
    finally:
        runtime.close()


def test_a_restart_resumes_after_the_last_replay_id(
    tmp_path: Path, org: Org, pubsub: PubSubServer
) -> None:
    for name in ("A", "B", "C", "D", "E"):
        org.state.insert("Account", {"Name": name})
    names: list[str] = []
    for _ in range(3):  # a new runtime each time: only the stored cursor carries over
        runtime = _runtime(tmp_path / "rt", org, pubsub.endpoint, poll_page_size=2)
        try:
            batch = runtime.connection(CONNECTION).poll(
                "cdc", CursorStore(runtime.db).get(CONNECTION, "cdc")
            )
            names += [json.loads(e.body)["payload"]["Name"] for e in batch.events]
            assert batch.has_more == (len(batch.events) == 2)
            CursorStore(runtime.db).set(CONNECTION, "cdc", batch.cursor)
        finally:
            runtime.close()
    assert names == ["A", "B", "C", "D", "E"]  # no loss, no duplicate


def test_subscribe_honours_num_requested(org: Org, pubsub: PubSubServer) -> None:
    for name in ("A", "B", "C"):
        org.state.insert("Account", {"Name": name})
    stub, channel = _stub(org, pubsub.endpoint)
    asks: queue.Queue[Any] = queue.Queue()
    asks.put(
        pb.FetchRequest(
            topic_name="/data/AccountChangeEvent",
            replay_preset=pb.ReplayPreset.EARLIEST,
            num_requested=2,
        )
    )
    call = stub.Subscribe(iter(asks.get, None), metadata=_auth(org))
    try:
        first = next(call)
        assert len(first.events) == 2 and first.pending_num_requested == 0
        # The third event only comes once the subscriber asks for more on the same stream.
        asks.put(pb.FetchRequest(num_requested=5))
        second = next(call)
        assert len(second.events) == 1 and second.pending_num_requested == 4
        assert second.events[0].replay_id == replay_bytes(org.state.events.latest_replay_id)
    finally:
        call.cancel()
        asks.put(None)
        channel.close()


def test_a_bad_or_expired_replay_id_fails_as_salesforce_does(
    tmp_path: Path, org: Org, pubsub: PubSubServer
) -> None:
    org.state.insert("Account", {"Name": "A"})
    runtime = _runtime(tmp_path / "rt", org, pubsub.endpoint)
    try:
        connector = runtime.connection(CONNECTION)
        for cursor in ("00", replay_bytes(10**9).hex()):  # malformed; not yet written
            with pytest.raises(ConfigError) as caught:
                connector.poll("cdc", cursor)
            assert caught.value.code == "salesforce.bad_cursor"
            assert CORRUPTED_REPLAY in str(caught.value)
        org.state.insert("Account", {"Name": "B"})
        org.state.events.clear()  # retention passed: the stored position is gone
        with pytest.raises(ConfigError, match="no longer retained"):
            connector.poll("cdc", replay_bytes(1).hex())
        with pytest.raises(ConfigError, match="not a Pub/Sub replay id"):
            connector.poll("cdc", "not hex")
    finally:
        runtime.close()


def test_auth_is_checked_and_a_refused_session_renewed(
    tmp_path: Path, org: Org, pubsub: PubSubServer
) -> None:
    stub, channel = _stub(org, pubsub.endpoint)
    try:
        with pytest.raises(grpc.RpcError) as caught:
            stub.GetTopic(
                pb.TopicRequest(topic_name="/data/ChangeEvents"), metadata=_auth(org, "x")
            )
        assert caught.value.code() == grpc.StatusCode.UNAUTHENTICATED
        topic = stub.GetTopic(
            pb.TopicRequest(topic_name="/data/AccountChangeEvent"), metadata=_auth(org)
        )
        assert topic.can_subscribe and topic.tenant_guid == org.state.org_id
        schema = stub.GetSchema(pb.SchemaRequest(schema_id=topic.schema_id), metadata=_auth(org))
        assert json.loads(schema.schema_json)["name"] == "AccountChangeEvent"
    finally:
        channel.close()
    runtime = _runtime(tmp_path / "rt", org, pubsub.endpoint)
    try:
        connector = runtime.connection(CONNECTION)
        assert connector.poll("cdc", None).events == []
        org.state.revoke_tokens()  # the session expired: the connector logs in again
        org.state.insert("Account", {"Name": "after"})
        assert len(connector.poll("cdc", None).events) == 1
    finally:
        runtime.close()


def test_missing_libraries_name_the_extra(
    tmp_path: Path, org: Org, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "fastavro", None)  # as if it were not installed
    with pytest.raises(ConfigError) as caught:
        require("crm")
    assert "pip install 'syncwright[salesforce-cdc]'" in str(caught.value)
    assert "fastavro" in str(caught.value)
    with pytest.raises(ConfigError, match=r"syncwright\[salesforce-cdc\]"):
        _runtime(tmp_path / "rt", org, "127.0.0.1:1").close()


def _managed(org: Org, name: str, default_replay: str = "EARLIEST") -> dict[str, Any]:
    """A managed subscription, declared through the emulator's admin API."""
    created = httpx.post(
        f"{org.url}/_sandbox/managed-subscriptions",
        json={"developer_name": name, "default_replay": default_replay},
        verify=ssl.create_default_context(cafile=org.certfile),
        trust_env=False,
    )
    created.raise_for_status()
    found: dict[str, Any] = created.json()
    return found


def _committed(org: Org, name: str) -> int | None:
    listed = httpx.get(
        f"{org.url}/_sandbox/managed-subscriptions",
        verify=ssl.create_default_context(cafile=org.certfile),
        trust_env=False,
    ).json()
    value: int | None = next(s for s in listed if s["DeveloperName"] == name)["CommittedReplayId"]
    return value


def test_managed_replay_resumes_from_the_committed_replay_id(
    tmp_path: Path, org: Org, pubsub: PubSubServer
) -> None:
    _managed(org, "Syncwright_CDC")
    replay_of: dict[str, int] = {}
    for name in ("A", "B", "C", "D", "E"):
        org.state.insert("Account", {"Name": name})
        replay_of[name] = org.state.events.latest_replay_id
    options = {"poll_page_size": 2, "pubsub_managed_subscription": "Syncwright_CDC"}
    runtime = _runtime(tmp_path / "rt", org, pubsub.endpoint, **options)
    try:
        # Pages A B, C D, E: each request commits the cursor stored once the page before it
        # was accepted; the next poll commits E.
        Poller(runtime).poll_once(CONNECTION, "cdc")
        assert _committed(org, "Syncwright_CDC") == replay_of["D"]
        Poller(runtime).poll_once(CONNECTION, "cdc")
        assert _committed(org, "Syncwright_CDC") == replay_of["E"]
    finally:
        runtime.close()
    org.state.insert("Account", {"Name": "F"})
    runtime = _runtime(tmp_path / "rt", org, pubsub.endpoint, **options)  # a restart
    try:
        Poller(runtime).poll_once(CONNECTION, "cdc")
        names = [body["payload"]["Name"] for body in _bodies(runtime)]
        assert names == ["A", "B", "C", "D", "E", "F"]  # nothing lost, nothing twice
    finally:
        runtime.close()
    # A process that lost its cursor store resumes where the server says: after E, the last
    # commit -- only F (delivered, not yet committed) comes again.
    fresh = _runtime(tmp_path / "fresh", org, pubsub.endpoint, **options)
    try:
        batch = fresh.connection(CONNECTION).poll("cdc", None)
        assert [json.loads(e.body)["payload"]["Name"] for e in batch.events] == ["F"]
    finally:
        fresh.close()


def test_managed_subscribe_answers_commits_and_refuses_unknown_ones(
    org: Org, pubsub: PubSubServer
) -> None:
    _managed(org, "Commits", default_replay="LATEST")
    org.state.insert("Account", {"Name": "A"})
    stub, channel = _stub(org, pubsub.endpoint)
    try:
        with pytest.raises(grpc.RpcError) as caught:
            next(
                stub.ManagedSubscribe(
                    iter([pb.ManagedFetchRequest(developer_name="Nope", num_requested=1)]),
                    metadata=_auth(org),
                )
            )
        assert caught.value.code() == grpc.StatusCode.NOT_FOUND
        asks: queue.Queue[Any] = queue.Queue()
        latest = replay_bytes(org.state.events.latest_replay_id)
        asks.put(pb.ManagedFetchRequest(developer_name="Commits", num_requested=1))
        call = stub.ManagedSubscribe(iter(asks.get, None), metadata=_auth(org))
        try:
            for replay, ok in ((latest, True), (replay_bytes(10**9), False)):
                commit = pb.CommitReplayRequest(commit_request_id=f"c-{ok}", replay_id=replay)
                asks.put(pb.ManagedFetchRequest(commit_replay_id_request=commit))
                answer = next(r for r in call if r.HasField("commit_response"))
                assert answer.commit_response.commit_request_id == f"c-{ok}"
                assert answer.commit_response.HasField("error") is not ok
            assert _committed(org, "Commits") == org.state.events.latest_replay_id
        finally:
            call.cancel()
            asks.put(None)
    finally:
        channel.close()
