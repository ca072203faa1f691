"""The Pub/Sub API (gRPC ``eventbus.v1.PubSub``) over the emulator's change events.

Implemented: ``GetTopic``, ``GetSchema`` and ``Subscribe`` as Salesforce's proto and developer
guide describe them (https://developer.salesforce.com/docs/platform/pub-sub-api/guide/):

- auth: the ``accesstoken`` metadata header must be a live session of the emulator (from its
  OAuth token endpoint) and ``tenantid`` the org id; otherwise UNAUTHENTICATED.
- topics: ``/data/ChangeEvents`` (every object) and ``/data/<Object>ChangeEvent``.
- ``Subscribe``: the first FetchRequest names the topic and the start (``LATEST``,
  ``EARLIEST``, or ``CUSTOM`` with a replay id from an earlier event); every FetchRequest adds
  ``num_requested`` events the server may send (flow control), and each FetchResponse reports
  ``pending_num_requested``. A replay id that is malformed or outside the retained events fails
  the call with INVALID_ARGUMENT and the error code
  ``sfdc.platform.eventbus.grpc.subscription.fetch.replayid.corrupted`` in the trailers.
  When no event arrives for ``keepalive_seconds``, an empty FetchResponse carrying
  ``latest_replay_id`` keeps the stream alive (Salesforce: about every 270 s).

- ``ManagedSubscribe``: the same stream for a managed subscription named by ``developer_name``
  or ``subscription_id`` (declared with ``POST /_sandbox/managed-subscriptions``, see
  ``_managed.py``); the server keeps the position. A ``commit_replay_id_request`` (in any
  request, the first too) commits a replay id and is answered by a response carrying
  ``commit_response`` (an ``error`` for a replay id the log never had); the next stream
  starts right after the last commit.

Replay ids are the log's integer replay ids as 8 big-endian bytes (opaque to clients).
Not implemented: ``Publish``, ``PublishStream`` (UNIMPLEMENTED).
"""

from __future__ import annotations

import queue
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent import futures
from pathlib import Path
from typing import Any, NoReturn

import grpc

from syncwright._vendor_proto.salesforce_pubsub import pubsub_api_pb2 as pb
from syncwright._vendor_proto.salesforce_pubsub import pubsub_api_pb2_grpc as pb_grpc

from ._avro import encode, event_name, schema_json
from ._cdc import ChangeEvent
from ._managed import ManagedSubscription
from ._schema import ObjectDef
from ._state import SalesforceState

ALL_CHANGES = "/data/ChangeEvents"
CORRUPTED_REPLAY = "sfdc.platform.eventbus.grpc.subscription.fetch.replayid.corrupted"
AUTH_ERROR = "sfdc.platform.eventbus.grpc.service.auth.error"
TOPIC_NOT_FOUND = "sfdc.platform.eventbus.grpc.topic.not.found"
MANAGED_NOT_FOUND = "sfdc.platform.eventbus.grpc.managed.subscription.not.found"
# Salesforce caps one FetchRequest's num_requested at 100.
MAX_REQUESTED = 100
_STEP_SECONDS = 0.5


def replay_bytes(replay_id: int) -> bytes:
    return replay_id.to_bytes(8, "big")


class _Credit:
    """Events the client has asked for and not yet received (flow control)."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self.pending = 0
        self.closed = False

    def add(self, count: int) -> None:
        with self._cond:
            self.pending += count
            self._cond.notify_all()

    def close(self) -> None:
        with self._cond:
            self.closed = True
            self._cond.notify_all()

    def wait(self, timeout: float) -> int:
        with self._cond:
            if self.pending == 0 and not self.closed:
                self._cond.wait(timeout)
            return self.pending

    def take(self, count: int) -> None:
        with self._cond:
            self.pending -= count


class PubSubService(pb_grpc.PubSubServicer):
    def __init__(self, state: SalesforceState, *, keepalive_seconds: float = 270.0) -> None:
        self.state = state
        self.keepalive_seconds = keepalive_seconds

    # -- helpers ----------------------------------------------------------------------------

    def _authenticate(self, context: grpc.ServicerContext) -> None:
        headers = {k: v for k, v in context.invocation_metadata() if isinstance(v, str)}
        token = headers.get("accesstoken", "")
        if not token or not self.state.token_valid(token):
            _abort(context, grpc.StatusCode.UNAUTHENTICATED, AUTH_ERROR, "invalid session")
        if headers.get("tenantid") != self.state.org_id:
            _abort(context, grpc.StatusCode.UNAUTHENTICATED, AUTH_ERROR, "unknown tenantid")

    def _objects(self) -> dict[str, ObjectDef]:
        return {event_name(obj.name): obj for obj in self.state.schema.objects.values()}

    def _topic_entity(self, topic: str, context: grpc.ServicerContext) -> str | None:
        """None for every object, else the object's API name; aborts on an unknown topic."""
        if topic == ALL_CHANGES:
            return None
        obj = self._objects().get(topic.removeprefix("/data/"))
        if not topic.startswith("/data/") or obj is None:
            _abort(context, grpc.StatusCode.NOT_FOUND, TOPIC_NOT_FOUND, f"no topic {topic!r}")
        return obj.name

    def _object_by_schema(self, schema_id: str) -> ObjectDef | None:
        for obj in self.state.schema.objects.values():
            if self.state.schema_id(obj) == schema_id:
                return obj
        return None

    # -- RPCs -------------------------------------------------------------------------------

    def GetTopic(self, request: Any, context: grpc.ServicerContext) -> Any:
        self._authenticate(context)
        entity = self._topic_entity(request.topic_name, context)
        schema = self.state.schema_id(self.state.schema.objects[entity]) if entity else ""
        return pb.TopicInfo(
            topic_name=request.topic_name,
            tenant_guid=self.state.org_id,
            can_publish=False,
            can_subscribe=True,
            schema_id=schema,
            rpc_id=str(uuid.uuid4()),
        )

    def GetSchema(self, request: Any, context: grpc.ServicerContext) -> Any:
        self._authenticate(context)
        obj = self._object_by_schema(request.schema_id)
        if obj is None:
            _abort(
                context,
                grpc.StatusCode.NOT_FOUND,
                "sfdc.platform.eventbus.grpc.schema.not.found",
                f"no schema {request.schema_id!r}",
            )
        return pb.SchemaInfo(
            schema_json=schema_json(obj), schema_id=request.schema_id, rpc_id=str(uuid.uuid4())
        )

    def Subscribe(self, request_iterator: Iterator[Any], context: grpc.ServicerContext) -> Any:
        self._authenticate(context)
        first = next(request_iterator, None)
        if first is None:
            return
        entity = self._topic_entity(first.topic_name, context)
        cursor = self._start(first, context)
        credit = _Credit()
        credit.add(min(first.num_requested, MAX_REQUESTED))

        def read_requests() -> None:
            for request in request_iterator:
                credit.add(min(request.num_requested, MAX_REQUESTED))

        yield from self._stream(
            context, entity, cursor, credit, read_requests, pb.FetchResponse, queue.Queue()
        )

    def ManagedSubscribe(
        self, request_iterator: Iterator[Any], context: grpc.ServicerContext
    ) -> Any:
        """Like Subscribe, but the server keeps the position: the stream starts after the
        subscription's last committed replay id (before any commit: its default replay), and
        each ``commit_replay_id_request`` moves it (answered by a ``commit_response``)."""
        self._authenticate(context)
        first = next(request_iterator, None)
        if first is None:
            return
        subscription = self.state.managed.find(first.subscription_id, first.developer_name)
        if subscription is None:
            _abort(
                context,
                grpc.StatusCode.NOT_FOUND,
                MANAGED_NOT_FOUND,
                f"no managed subscription {first.developer_name or first.subscription_id!r}",
            )
        entity = self._topic_entity(subscription.topic, context)
        commits: queue.Queue[Any] = queue.Queue()
        if first.HasField("commit_replay_id_request"):
            commits.put(self._commit(subscription, first.commit_replay_id_request))
        log = self.state.events
        if subscription.committed is not None:
            cursor = subscription.committed
        elif subscription.default_replay == "EARLIEST":
            oldest = log.oldest_replay_id()
            cursor = log.latest_replay_id if oldest is None else oldest - 1
        else:
            cursor = log.latest_replay_id
        credit = _Credit()
        credit.add(min(first.num_requested, MAX_REQUESTED))

        def read_requests() -> None:
            for request in request_iterator:
                if request.HasField("commit_replay_id_request"):
                    commits.put(self._commit(subscription, request.commit_replay_id_request))
                    credit.add(0)  # wake the stream to answer the commit
                credit.add(min(request.num_requested, MAX_REQUESTED))

        yield from self._stream(
            context, entity, cursor, credit, read_requests, pb.ManagedFetchResponse, commits
        )

    def _commit(self, subscription: ManagedSubscription, request: Any) -> Any:
        """Commit a replay id the log holds (or held: the latest of an empty batch)."""
        raw = bytes(request.replay_id)
        replay = int.from_bytes(raw, "big") if len(raw) == 8 else -1
        response = pb.CommitReplayResponse(
            commit_request_id=request.commit_request_id,
            replay_id=raw,
            process_time=int(time.time() * 1000),
        )
        if not 0 <= replay <= self.state.events.latest_replay_id:
            response.error.CopyFrom(
                pb.Error(code=pb.ErrorCode.COMMIT, msg=f"replay id {raw.hex()} is not valid")
            )
            return response
        self.state.managed.commit(subscription, replay)
        return response

    def _stream(
        self,
        context: grpc.ServicerContext,
        entity: str | None,
        cursor: int,
        credit: _Credit,
        read_requests: Callable[[], None],
        response_type: Any,
        commits: queue.Queue[Any],
    ) -> Iterator[Any]:
        """Events after ``cursor`` as the client's credit allows, keepalives when quiet, and
        (managed) the answers to commits; ``read_requests`` consumes the client's requests."""

        def reader() -> None:
            try:
                read_requests()
            except grpc.RpcError:
                pass  # the client went away
            finally:
                credit.close()

        threading.Thread(target=reader, name="sf-pubsub-requests", daemon=True).start()
        rpc_id = str(uuid.uuid4())
        log = self.state.events
        # Wait in short steps so a cancelled call frees its worker thread promptly.
        step = min(_STEP_SECONDS, self.keepalive_seconds)
        quiet_since = time.monotonic()
        while context.is_active():
            while not commits.empty():
                yield response_type(
                    latest_replay_id=replay_bytes(log.latest_replay_id),
                    rpc_id=rpc_id,
                    pending_num_requested=max(credit.pending, 0),
                    commit_response=commits.get(),
                )
            wanted = credit.wait(step)
            if wanted <= 0:
                if credit.closed:
                    return
                continue
            events: list[Any] = []
            for event in log.wait_since(cursor, timeout=step, limit=wanted):
                cursor = event.replay_id
                if entity is None or event.entity == entity:
                    events.append(self._consumer_event(event))
                    if len(events) == wanted:
                        break
            credit.take(len(events))
            quiet = time.monotonic() - quiet_since >= self.keepalive_seconds
            if events or quiet:
                quiet_since = time.monotonic()
                yield response_type(
                    events=events,
                    latest_replay_id=replay_bytes(log.latest_replay_id),
                    rpc_id=rpc_id,
                    pending_num_requested=max(credit.pending, 0),
                )

    def _start(self, first: Any, context: grpc.ServicerContext) -> int:
        log = self.state.events
        if first.replay_preset == pb.ReplayPreset.EARLIEST:
            oldest = log.oldest_replay_id()
            return log.latest_replay_id if oldest is None else oldest - 1
        if first.replay_preset == pb.ReplayPreset.LATEST:
            return log.latest_replay_id
        raw = bytes(first.replay_id)
        replay = int.from_bytes(raw, "big") if len(raw) == 8 else -1
        oldest = log.oldest_replay_id()
        low = oldest - 1 if oldest is not None else log.latest_replay_id
        if not low <= replay <= log.latest_replay_id:
            _abort(
                context,
                grpc.StatusCode.INVALID_ARGUMENT,
                CORRUPTED_REPLAY,
                "The Replay ID validation failed. Ensure that the Replay ID is valid and within "
                "the retention window.",
            )
        return replay

    def _consumer_event(self, event: ChangeEvent) -> Any:
        obj = self.state.schema.objects[event.entity]
        return pb.ConsumerEvent(
            event=pb.ProducerEvent(
                id=str(uuid.uuid5(uuid.NAMESPACE_URL, f"{self.state.org_id}/{event.replay_id}")),
                schema_id=event.schema,
                payload=encode(obj, event),
            ),
            replay_id=replay_bytes(event.replay_id),
        )


def _abort(context: grpc.ServicerContext, code: grpc.StatusCode, error: str, text: str) -> NoReturn:
    rpc_id = str(uuid.uuid4())
    context.set_trailing_metadata((("error-code", error), ("rpc-id", rpc_id)))
    context.abort(code, f"{error}: {text} rpcId: {rpc_id}")


class PubSubServer:
    """The gRPC server on 127.0.0.1 (TLS with ``certfile``/``keyfile``, else plaintext)."""

    def __init__(
        self,
        state: SalesforceState,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        certfile: str | Path | None = None,
        keyfile: str | Path | None = None,
        keepalive_seconds: float = 270.0,
    ) -> None:
        self.state = state
        self.host = host
        self._server = grpc.server(futures.ThreadPoolExecutor(max_workers=8))
        pb_grpc.add_PubSubServicer_to_server(  # type: ignore[no-untyped-call]
            PubSubService(state, keepalive_seconds=keepalive_seconds), self._server
        )
        address = f"{host}:{port}"
        if certfile and keyfile:
            creds = grpc.ssl_server_credentials(
                [(Path(keyfile).read_bytes(), Path(certfile).read_bytes())]
            )
            self.port = self._server.add_secure_port(address, creds)
        else:
            self.port = self._server.add_insecure_port(address)

    @property
    def endpoint(self) -> str:
        """``host:port``: the connector's ``options.pubsub_endpoint``."""
        return f"{self.host}:{self.port}"

    def start(self) -> PubSubServer:
        self._server.start()
        return self

    def stop(self) -> None:
        self._server.stop(grace=0).wait()
