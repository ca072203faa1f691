"""One Zendesk emulator per test session (reset before each test), zenpy pointed at it, a webhook
receiver, and a checker of JSON bodies against Zendesk's OpenAPI document."""

from __future__ import annotations

import fnmatch
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import httpx
import pytest
import yaml
from fastapi import FastAPI, Request, Response
from zenpy import Zenpy

from syncwright.sandbox import ServerThread
from syncwright.sandbox.zendesk import ZendeskEmulator, ZendeskState, create_app, emulator_of
from tests._vendor import vendor_path

EMAIL = "agent@example.com"
TOKEN = "zd-test-token-value"
SUBDOMAIN = "syncwright"


# -- the emulator ---------------------------------------------------------------------------


@dataclass
class ZendeskEnv:
    url: str
    emulator: ZendeskEmulator

    @property
    def state(self) -> ZendeskState:
        return self.emulator.state

    def client(self, *, token: str = TOKEN, timeout: float = 5.0) -> httpx.Client:
        return httpx.Client(
            base_url=self.url, auth=(f"{EMAIL}/token", token), timeout=timeout, trust_env=False
        )

    def admin(self) -> httpx.Client:
        return httpx.Client(base_url=self.url, timeout=10.0, trust_env=False)


def start_emulator(**kwargs: Any) -> tuple[ServerThread, ZendeskEnv]:
    kwargs.setdefault("requests_per_minute", 100_000)
    kwargs.setdefault("webhook_retry_delays", (0.05, 0.1, 0.2, 0.2, 0.2))
    kwargs.setdefault("webhook_timeout_seconds", 2.0)
    app = create_app(email=EMAIL, api_token=TOKEN, subdomain=SUBDOMAIN, **kwargs)
    server = ServerThread(app).start()
    return server, ZendeskEnv(server.url, emulator_of(app))


@pytest.fixture(scope="session")
def _zendesk_server() -> Iterator[ZendeskEnv]:
    server, env = start_emulator()
    try:
        yield env
    finally:
        server.stop()


@pytest.fixture
def zendesk(_zendesk_server: ZendeskEnv) -> Iterator[ZendeskEnv]:
    with _zendesk_server.admin() as admin:
        admin.post("/_sandbox/reset").raise_for_status()
    yield _zendesk_server
    _zendesk_server.emulator.wait_for_deliveries(5.0)


@pytest.fixture
def extra_zendesk() -> Iterator[Callable[..., ZendeskEnv]]:
    """Start another emulator with its own settings (small rate limits, OAuth tokens, ...)."""
    servers: list[ServerThread] = []

    def start(**kwargs: Any) -> ZendeskEnv:
        server, env = start_emulator(**kwargs)
        servers.append(server)
        return env

    yield start
    for server in servers:
        server.stop()


@pytest.fixture
def make_zenpy(zendesk: ZendeskEnv, monkeypatch: pytest.MonkeyPatch) -> Callable[..., Zenpy]:
    """zenpy can only be redirected through these process-wide variables (DESIGN.md, 5)."""

    def make(env: ZendeskEnv | None = None, **kwargs: Any) -> Zenpy:
        target = env or zendesk
        monkeypatch.setenv("ZENPY_FORCE_SCHEME", "http")
        monkeypatch.setenv("ZENPY_FORCE_NETLOC", target.url.removeprefix("http://"))
        if "oauth_token" not in kwargs:
            kwargs.setdefault("token", TOKEN)
        kwargs.setdefault("timeout", 5.0)
        client = Zenpy(subdomain=SUBDOMAIN, email=EMAIL, disable_cache=True, **kwargs)
        client.users.session.trust_env = False
        return client

    return make


@pytest.fixture
def zenpy(make_zenpy: Callable[..., Zenpy]) -> Zenpy:
    return make_zenpy()


# -- a webhook receiver ---------------------------------------------------------------------


@dataclass
class Received:
    body: bytes
    headers: dict[str, str]


@dataclass
class Receiver:
    """Records every delivery; answers from ``script`` (status, headers) first, then 200."""

    url: str = ""
    received: list[Received] = field(default_factory=list)
    script: list[tuple[int, dict[str, str]]] = field(default_factory=list)
    arrived: threading.Condition = field(default_factory=threading.Condition)

    def wait_for(self, count: int, timeout: float = 5.0) -> list[Received]:
        with self.arrived:
            self.arrived.wait_for(lambda: len(self.received) >= count, timeout)
            return list(self.received)


@pytest.fixture(scope="session")
def _receiver_server() -> Iterator[Receiver]:
    receiver = Receiver()
    app = FastAPI()

    @app.post("/hooks/zendesk")
    async def hook(request: Request) -> Response:
        body = await request.body()
        with receiver.arrived:
            receiver.received.append(Received(body, dict(request.headers)))
            receiver.arrived.notify_all()
            status, headers = receiver.script.pop(0) if receiver.script else (200, {})
        return Response(status_code=status, headers=headers)

    server = ServerThread(app).start()
    receiver.url = f"{server.url}/hooks/zendesk"
    try:
        yield receiver
    finally:
        server.stop()


@pytest.fixture
def receiver(_receiver_server: Receiver) -> Receiver:
    with _receiver_server.arrived:
        _receiver_server.received.clear()
        _receiver_server.script.clear()
    return _receiver_server


# -- Zendesk's OpenAPI document ---------------------------------------------------------------


class _OasLoader(yaml.SafeLoader):
    """The vendor copy has a bare ``=`` scalar, which PyYAML resolves to the obscure
    ``tag:yaml.org,2002:value``; read it as the plain string it is."""


_OasLoader.add_constructor(
    "tag:yaml.org,2002:value",
    lambda loader, node: loader.construct_scalar(node),  # type: ignore[arg-type]
)


@pytest.fixture(scope="session")
def oas_spec() -> dict[str, Any]:
    path = vendor_path("zendesk/oas.support-api.v2.yaml")
    loader: Any = getattr(yaml, "CSafeLoader", None)
    if loader is not None:
        loader = type("_COasLoader", (loader,), {})
        loader.add_constructor(
            "tag:yaml.org,2002:value", lambda ld, node: ld.construct_scalar(node)
        )
    spec: dict[str, Any] = yaml.load(path.read_text(), Loader=loader or _OasLoader)  # noqa: S506
    return spec


_TYPES: dict[str, Callable[[Any], bool]] = {
    "string": lambda v: isinstance(v, str),
    "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "number": lambda v: isinstance(v, int | float) and not isinstance(v, bool),
    "boolean": lambda v: isinstance(v, bool),
    "array": lambda v: isinstance(v, list),
    "object": lambda v: isinstance(v, dict),
}


class OasChecker:
    """A small structural validator for OAS 3.0 schemas: ``$ref``, ``allOf``/``anyOf``/
    ``oneOf``, types, ``nullable``, ``enum``, ``required``, date-time formats, and unknown keys.

    ``null_ok``/``extra_ok``/``loose`` take glob patterns over paths like ``ticket.priority``
    or ``tickets[].via`` for documented gaps between the OAS and what Zendesk really sends.
    """

    def __init__(self, spec: dict[str, Any]) -> None:
        self.schemas: dict[str, Any] = spec["components"]["schemas"]

    def _resolve(self, schema: dict[str, Any]) -> dict[str, Any]:
        while "$ref" in schema:
            schema = self.schemas[schema["$ref"].rsplit("/", 1)[1]]
        return schema

    def _merged(self, schema: dict[str, Any]) -> dict[str, Any]:
        schema = self._resolve(schema)
        if "allOf" not in schema:
            return schema
        merged: dict[str, Any] = {k: v for k, v in schema.items() if k != "allOf"}
        merged.setdefault("properties", {})
        merged["properties"] = dict(merged["properties"])
        merged["required"] = list(merged.get("required", []))
        for part in schema["allOf"]:
            part = self._merged(part)
            merged["properties"].update(part.get("properties", {}))
            merged["required"] += part.get("required", [])
            merged.setdefault("type", part.get("type"))
        return merged

    def problems(
        self,
        schema_name: str,
        value: Any,
        *,
        null_ok: tuple[str, ...] = (),
        extra_ok: tuple[str, ...] = (),
        loose: tuple[str, ...] = (),
    ) -> list[str]:
        found: list[str] = []

        def matches(path: str, patterns: tuple[str, ...]) -> bool:
            return any(fnmatch.fnmatchcase(path, p) for p in patterns)

        def check(schema: dict[str, Any], v: Any, path: str) -> None:
            if matches(path, loose):
                return
            schema = self._merged(schema)
            if v is None:
                if not schema.get("nullable") and not matches(path, null_ok):
                    found.append(f"{path}: null is not allowed")
                return
            for combinator in ("anyOf", "oneOf"):
                if combinator in schema:
                    attempts = []
                    for option in schema[combinator]:
                        before = len(found)
                        check(option, v, path)
                        attempts.append(found[before:])
                        del found[before:]
                    if all(attempts):
                        found.extend(min(attempts, key=len))
                    return
            kind = schema.get("type")
            if kind and not _TYPES[kind](v):
                found.append(f"{path}: expected {kind}, got {type(v).__name__} {v!r}")
                return
            if "enum" in schema and v not in schema["enum"]:
                found.append(f"{path}: {v!r} not in {schema['enum']}")
            if schema.get("format") == "date-time" and isinstance(v, str):
                try:
                    datetime.fromisoformat(v)
                except ValueError:
                    found.append(f"{path}: {v!r} is not a date-time")
            if kind == "array" and "items" in schema:
                for item in v:
                    check(schema["items"], item, f"{path}[]")
            if isinstance(v, dict) and (kind == "object" or "properties" in schema):
                properties = schema.get("properties", {})
                for name in schema.get("required", []):
                    if name not in v:
                        found.append(f"{path}.{name}: required but missing")
                extra = schema.get("additionalProperties")
                for name, item in v.items():
                    child = f"{path}.{name}".lstrip(".")
                    if name in properties:
                        check(properties[name], item, child)
                    elif isinstance(extra, dict):
                        check(extra, item, child)
                    elif extra is not True and properties and not matches(child, extra_ok):
                        found.append(f"{child}: not a property of the schema")

        check({"$ref": f"#/components/schemas/{schema_name}"}, value, "")
        return found

    def assert_valid(self, schema_name: str, value: Any, **allow: tuple[str, ...]) -> None:
        problems = self.problems(schema_name, value, **allow)
        assert not problems, f"{schema_name}:\n  " + "\n  ".join(problems)


@pytest.fixture(scope="session")
def oas(oas_spec: dict[str, Any]) -> OasChecker:
    return OasChecker(oas_spec)
