"""Change Data Capture over Salesforce's Pub/Sub API: one poll = one bounded ``Subscribe``.

https://developer.salesforce.com/docs/platform/pub-sub-api/guide/ : each poll opens a Subscribe
stream on the topic (``/data/ChangeEvents`` by default), asks for at most a page of events
(``num_requested``: flow control, Salesforce caps it at 100 per request), and ends the stream
when the page is full, when the server's keepalive (an empty FetchResponse) says nothing more
is waiting, or after ``wait_seconds``. The position is client-side replay: the hex of the last
event's opaque replay id is the stream's cursor, so a restart resumes right after it. With
``options.pubsub_managed_subscription`` the server keeps the position instead (managed replay,
``ManagedSubscribe``): each poll commits the cursor stored since the last one
(``CommitReplayRequest``) and the stream starts right after it; a process that lost its cursor
resumes from the last commit.

Events are Avro (fastavro); the writer schema is fetched once per schema id with GetSchema.
``changedFields`` / ``nulledFields`` / ``diffFields`` arrive as bitmaps over the schema's field
positions and are decoded into names (``BillingAddress.City`` for a compound's part). Each event
is then handed on in the JSON shape of a CometD change event (``schema`` / ``payload`` with
``ChangeEventHeader`` / ``event.replayId``), the shape the normalizer reads; fields an UPDATE
did not change (null in Pub/Sub) are left out as CometD leaves them out. Date-times stay epoch
milliseconds, as the Pub/Sub API delivers them.

grpcio, protobuf and fastavro are the ``salesforce-cdc`` extra; :func:`require` says so when
they are missing.
"""

from __future__ import annotations

import io
import json
import threading
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from syncwright.errors import AuthError, ConfigError, TransientError

DEFAULT_TOPIC = "/data/ChangeEvents"
MAX_REQUESTED = 100  # Salesforce's cap on one FetchRequest's num_requested
INSTALL_HINT = "pip install 'syncwright[salesforce-cdc]'"
CORRUPTED_REPLAY = "sfdc.platform.eventbus.grpc.subscription.fetch.replayid.corrupted"
# gRPC codes that pass: the service is briefly away, overloaded, or cut the stream.
_TRANSIENT = ("UNAVAILABLE", "DEADLINE_EXCEEDED", "RESOURCE_EXHAUSTED", "ABORTED", "INTERNAL")


def require(connection: str) -> None:
    """Fail with what to install when the Pub/Sub API's libraries are missing."""
    missing = []
    for module in ("grpc", "google.protobuf", "fastavro"):
        try:
            __import__(module)
        except ImportError:
            missing.append(module.split(".")[-1])
    if missing:
        raise ConfigError(
            f"connection {connection!r}: the cdc stream over the Salesforce Pub/Sub API needs "
            f"{', '.join(missing)}; install them with: {INSTALL_HINT}",
            code="salesforce.pubsub_not_installed",
            problems=[
                f"{INSTALL_HINT} (or remove connections.{connection}.options.pubsub_endpoint "
                "and poll the soql stream instead)"
            ],
        )


@dataclass(frozen=True)
class Fetched:
    """One poll's result: decoded events ``(replay id hex, event uuid, body)`` in order, and
    the server's latest replay id (hex; where "now" is when nothing was delivered)."""

    events: list[tuple[str, str, dict[str, Any]]]
    latest: str | None


class PubSubReader:
    """A channel to the Pub/Sub API with the connection's OAuth session and a schema cache."""

    def __init__(
        self,
        connection: str,
        endpoint: str,
        session: Callable[[str | None], tuple[str, str, str]],
        *,
        ca_file: str | None = None,
        topic: str = DEFAULT_TOPIC,
        wait_seconds: float = 10.0,
    ) -> None:
        require(connection)
        import grpc

        from syncwright._vendor_proto.salesforce_pubsub import pubsub_api_pb2_grpc as pb_grpc

        self.connection = connection
        self.endpoint = endpoint
        self.topic = topic
        self.wait_seconds = wait_seconds
        self._session = session
        root = Path(ca_file).read_bytes() if ca_file else None
        self._channel = grpc.secure_channel(endpoint, grpc.ssl_channel_credentials(root))
        self._stub = pb_grpc.PubSubStub(self._channel)  # type: ignore[no-untyped-call]
        self._schemas: dict[str, Any] = {}
        self._token: str | None = None

    def close(self) -> None:
        self._channel.close()

    # -- auth and errors ----------------------------------------------------------------------

    def _metadata(self) -> tuple[tuple[str, str], ...]:
        token, instance_url, org_id = self._session(None)
        self._token = token
        return (("accesstoken", token), ("instanceurl", instance_url), ("tenantid", org_id))

    def _call(self, what: str, run: Callable[[tuple[tuple[str, str], ...]], Any]) -> Any:
        """``run(metadata)``; a refused session is renewed once, errors are classified."""
        import grpc

        for attempt in (1, 2):
            try:
                return run(self._metadata())
            except grpc.RpcError as exc:
                if exc.code() == grpc.StatusCode.UNAUTHENTICATED and attempt == 1:
                    self._session(self._token)  # a new session, then one more try
                    continue
                raise self._classify(what, exc) from exc
        raise AssertionError("unreachable")

    def _classify(self, what: str, exc: Any) -> Exception:
        code = exc.code()
        trailers = dict(exc.trailing_metadata() or ())
        error_code = str(trailers.get("error-code") or "")
        detail = f"Salesforce Pub/Sub {what}: {code.name} {error_code}".rstrip()
        if code.name == "UNAUTHENTICATED":
            return AuthError(detail + " (the session was refused)", code="salesforce.pubsub_auth")
        if error_code == CORRUPTED_REPLAY:
            return ConfigError(
                detail + ": the stored replay id is not valid or no longer retained (72 hours)",
                code="salesforce.bad_cursor",
                problems=[
                    f"sw_cursors {self.connection}/cdc: delete it to start again from "
                    "options.cdc_start_replay_id (-2: every retained event), then reconcile "
                    "the gap (the soql stream, or `syncwright reconcile`)"
                ],
            )
        if code.name in _TRANSIENT:
            return TransientError(detail, code="salesforce.pubsub_unavailable")
        if code.name in ("NOT_FOUND", "PERMISSION_DENIED", "INVALID_ARGUMENT"):
            return ConfigError(
                detail,
                code="salesforce.pubsub_refused",
                problems=[
                    f"connections.{self.connection}.options.cdc_topic ({self.topic}): a change "
                    "event channel the integration user may subscribe to"
                ],
            )
        return TransientError(detail, code="salesforce.pubsub_error")

    # -- reading ------------------------------------------------------------------------------

    def fetch(self, replay: bytes | None, *, earliest: bool, limit: int) -> Fetched:
        """Up to ``limit`` events after ``replay`` (or from the preset when it is None)."""
        from syncwright._vendor_proto.salesforce_pubsub import pubsub_api_pb2 as pb

        if replay is not None:
            first = pb.FetchRequest(
                topic_name=self.topic,
                replay_preset=pb.ReplayPreset.CUSTOM,
                replay_id=replay,
                num_requested=min(limit, MAX_REQUESTED),
            )
        else:
            preset = pb.ReplayPreset.EARLIEST if earliest else pb.ReplayPreset.LATEST
            first = pb.FetchRequest(
                topic_name=self.topic, replay_preset=preset, num_requested=min(limit, MAX_REQUESTED)
            )

        def more(ask: int) -> Any:
            return pb.FetchRequest(topic_name=self.topic, num_requested=ask)

        raw, latest = self._call(
            "Subscribe", lambda md: self._subscribe(self._stub.Subscribe, first, more, limit, md)
        )
        return self._fetched(raw, latest)

    def fetch_managed(self, subscription: str, commit: bytes | None, *, limit: int) -> Fetched:
        """Up to ``limit`` events of the managed subscription ``subscription`` (its developer
        name): the server starts after the replay id last committed. ``commit`` (the last
        replay id the caller stored durably) is committed first, in the stream's first request,
        so the stream starts right after it.
        https://developer.salesforce.com/docs/platform/pub-sub-api/guide/managed-sub.html"""
        from syncwright._vendor_proto.salesforce_pubsub import pubsub_api_pb2 as pb

        first = pb.ManagedFetchRequest(
            developer_name=subscription, num_requested=min(limit, MAX_REQUESTED)
        )
        if commit is not None:
            first.commit_replay_id_request.CopyFrom(
                pb.CommitReplayRequest(commit_request_id=str(uuid.uuid4()), replay_id=commit)
            )

        def more(ask: int) -> Any:
            return pb.ManagedFetchRequest(num_requested=ask)

        raw, latest = self._call(
            "ManagedSubscribe",
            lambda md: self._subscribe(self._stub.ManagedSubscribe, first, more, limit, md),
        )
        return self._fetched(raw, latest)

    def _fetched(self, raw: list[Any], latest: str | None) -> Fetched:
        events = [
            (bytes(e.replay_id).hex(), e.event.id, self._decode(e.event.schema_id, e.event.payload))
            for e in raw
        ]
        return Fetched(events, latest)

    def _subscribe(
        self,
        rpc: Any,
        first: Any,
        more_request: Callable[[int], Any],
        limit: int,
        metadata: tuple[tuple[str, str], ...],
    ) -> tuple[list[Any], str | None]:
        import grpc

        done = threading.Event()
        more = threading.Semaphore(0)

        def requests() -> Iterator[Any]:
            # The stream stays open until this poll ends; each further request asks for the
            # next part of the page (num_requested is capped per request).
            yield first
            asked = first.num_requested
            while asked < limit:
                more.acquire()
                if done.is_set():
                    return
                ask = min(limit - asked, MAX_REQUESTED)
                asked += ask
                yield more_request(ask)
            done.wait()

        call = rpc(requests(), metadata=metadata)
        timer = threading.Timer(self.wait_seconds, call.cancel)
        timer.start()
        got: list[Any] = []
        latest: str | None = None
        try:
            for response in call:
                latest = bytes(response.latest_replay_id).hex() or latest
                if _commit_answer(response):
                    continue  # the answer to our commit, not a keepalive
                got.extend(response.events)
                if len(got) >= limit or not response.events:
                    break  # a full page, or the keepalive: nothing more is waiting
                if response.pending_num_requested == 0:
                    more.release()
        except grpc.RpcError as exc:
            if exc.code() != grpc.StatusCode.CANCELLED:  # our own deadline ends a quiet poll
                raise
        finally:
            timer.cancel()
            done.set()
            more.release()
            call.cancel()
        return got, latest

    def _decode(self, schema_id: str, payload: bytes) -> dict[str, Any]:
        import fastavro

        schema = self._schema(schema_id)
        record = fastavro.schemaless_reader(io.BytesIO(payload), schema, None)
        if not isinstance(record, dict):
            raise TransientError(
                f"Salesforce Pub/Sub event of schema {schema_id} is not a record",
                code="salesforce.pubsub_bad_event",
            )
        return cometd_shape(schema, schema_id, record)

    def _schema(self, schema_id: str) -> Any:
        """The writer schema, fetched once per schema id (GetSchema)."""
        if schema_id not in self._schemas:
            import fastavro

            from syncwright._vendor_proto.salesforce_pubsub import pubsub_api_pb2 as pb

            info = self._call(
                "GetSchema",
                lambda md: self._stub.GetSchema(pb.SchemaRequest(schema_id=schema_id), metadata=md),
            )
            self._schemas[schema_id] = fastavro.parse_schema(json.loads(info.schema_json))
        return self._schemas[schema_id]


def _commit_answer(response: Any) -> bool:
    """Whether a ManagedFetchResponse answers a commit (a refused commit is an error: the
    position the server keeps would not be the one the caller stored)."""
    if "commit_response" not in type(response).DESCRIPTOR.fields_by_name:
        return False
    if not response.HasField("commit_response"):
        return False
    answer = response.commit_response
    if answer.HasField("error"):
        raise TransientError(
            f"Salesforce Pub/Sub refused to commit replay id {bytes(answer.replay_id).hex()}: "
            f"{answer.error.msg}",
            code="salesforce.pubsub_commit_failed",
        )
    return not response.events


def _record_fields(schema: Any) -> list[dict[str, Any]]:
    """The fields of a record schema, or of the record in a ``["null", record]`` union."""
    if isinstance(schema, list):
        records = [s for s in schema if isinstance(s, dict) and s.get("type") == "record"]
        return _record_fields(records[0]) if records else []
    if isinstance(schema, dict) and schema.get("type") == "record":
        return list(schema.get("fields") or [])
    return []


def _bits(hex_text: str, fields: list[dict[str, Any]]) -> list[str]:
    value = int(hex_text, 16)
    return [f["name"] for i, f in enumerate(fields) if value >> i & 1]


def field_names(schema: Any, bitmaps: list[str]) -> list[str]:
    """Decode Pub/Sub field bitmaps: ``["0x6", "3-0x2"]`` -> top-level fields at positions 1
    and 2, and the second part of the compound field at position 3 (``Parent.Part``)."""
    fields = _record_fields(schema)
    names: list[str] = []
    for item in bitmaps:
        if item.startswith("0x"):
            names.extend(_bits(item, fields))
            continue
        position, _, bitmap = item.partition("-")
        if not position.isdigit() or int(position) >= len(fields):
            continue
        parent = fields[int(position)]
        names.extend(f"{parent['name']}.{n}" for n in _bits(bitmap, _record_fields(parent["type"])))
    return names


def cometd_shape(schema: Any, schema_id: str, record: dict[str, Any]) -> dict[str, Any]:
    """A decoded Pub/Sub change event as the JSON body a CometD subscriber receives."""
    header = dict(record.get("ChangeEventHeader") or {})
    for key in ("changedFields", "nulledFields", "diffFields"):
        header[key] = field_names(schema, list(header.get(key) or []))
    nulled = {name.split(".")[0] for name in header["nulledFields"]}
    fields = {
        name: value
        for name, value in record.items()
        if name != "ChangeEventHeader" and (value is not None or name in nulled)
    }
    return {"schema": schema_id, "payload": {"ChangeEventHeader": header, **fields}}


__all__ = ["DEFAULT_TOPIC", "Fetched", "PubSubReader", "cometd_shape", "field_names", "require"]
