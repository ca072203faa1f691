"""``syncwright sandbox up``: the emulators a config names, and a config pointed at them.

For each connection of the config whose vendor has an emulator here, one emulator is started on a
loopback port with fresh test credentials. The written config is the input config with each such
connection's ``base_url`` set to its emulator, its credentials (and webhook secrets, for vendors
that take webhooks) replaced by ``${SANDBOX_<CONNECTION>_<KEY>}`` references, and the options an
emulator needs (NetSuite's account, Salesforce's CA file, Business Central's tenant, company,
token issuer and CA file) added. Emulators that send webhooks
(Stripe, Zendesk) get a webhook endpoint registered through their own API, pointed at the
config's intake (``http://<server.hooks or server host:port>/hooks/<connection>``); the secret
they sign with is the one written to the env file, so ``serve`` verifies their deliveries. The
values go to an env file (``export NAME=value`` lines, mode 0600) and are never printed.
Connections of vendors without an emulator are kept as they are and reported.

This module wires emulators to a config; it is not an emulator, so it may ask the connector kit
which vendors take webhooks (the emulators themselves never import connector code).
"""

from __future__ import annotations

import copy
import re
import secrets
import shlex
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import quote

import httpx
import yaml

from syncwright.config import load_settings
from syncwright.errors import ConfigError
from syncwright.sandbox._server import ServerThread
from syncwright.sandbox._tls import make_self_signed_cert

__all__ = ["EMULATED_VENDORS", "Sandbox", "SandboxConnection", "start_sandbox"]

ZENDESK_EMAIL = "agent@example.com"
NETSUITE_ACCOUNT = "TSTDRV1"
BUSINESS_CENTRAL_TENANT = "contoso.onmicrosoft.com"
# server.host / server.port defaults (config.ServerSettings)
DEFAULT_HOST, DEFAULT_PORT = "127.0.0.1", 8787
# Zendesk's organization and user event types (what the support connector's inbox receives).
# https://developer.zendesk.com/api-reference/webhooks/event-types/organization-events/
ZENDESK_EVENTS = (
    "zen:event-type:organization.created",
    "zen:event-type:organization.deleted",
    "zen:event-type:organization.name_changed",
    "zen:event-type:organization.external_id_changed",
    "zen:event-type:organization.tags_changed",
    "zen:event-type:organization.custom_field_changed",
    "zen:event-type:user.created",
)


class _Stoppable(Protocol):
    def stop(self) -> None: ...


@dataclass(frozen=True)
class _Started:
    """One running emulator and what a connection needs to reach it; ``webhook_secret``: the
    secret of the endpoint registered in it (emulators that send webhooks)."""

    server: ServerThread
    credentials: dict[str, str]
    options: dict[str, Any] = field(default_factory=dict)
    # The secret the emulator signs webhooks with (HubSpot's app client secret, the Stripe and
    # Zendesk endpoints' secrets); None: a fresh one is generated for the connection.
    webhook_secret: str | None = None
    # Servers that run beside the emulator's HTTP one (Salesforce's Pub/Sub API over gRPC).
    companions: tuple[_Stoppable, ...] = ()


@dataclass(frozen=True)
class SandboxConnection:
    connection: str
    vendor: str
    url: str
    # Where the emulator sends its webhooks (registered in it), or None.
    webhook_url: str | None = None


@dataclass
class Sandbox:
    """The running emulators and the files written for them; :meth:`stop` ends them."""

    connections: list[SandboxConnection]
    not_emulated: dict[str, str]  # connection -> vendor
    config_path: Path
    env_path: Path
    _servers: list[_Stoppable]

    def stop(self) -> None:
        for server in self._servers:
            server.stop()


def _example(
    connection: str, options: Mapping[str, Any], workdir: Path, hooks_url: str
) -> _Started:
    from syncwright.sandbox.example import ExampleErpState, create_app

    token = "erp-sandbox-" + secrets.token_hex(12)
    server = ServerThread(create_app(ExampleErpState(token=token))).start()
    return _Started(server, {"token": token})


def _stripe(connection: str, options: Mapping[str, Any], workdir: Path, hooks_url: str) -> _Started:
    from syncwright.sandbox.stripe import create_app

    api_key = "sk_test_" + secrets.token_hex(12)
    server = ServerThread(create_app(api_key=api_key)).start()
    # As a user does in the dashboard: an endpoint for every event; Stripe answers with the
    # signing secret once. https://docs.stripe.com/api/webhook_endpoints/create
    answer = _register(
        server,
        "/v1/webhook_endpoints",
        data={"url": hooks_url, "enabled_events[]": "*"},
        headers={"Authorization": f"Bearer {api_key}"},
    )
    return _Started(server, {"api_key": api_key}, webhook_secret=str(answer["secret"]))


def _netsuite(
    connection: str, options: Mapping[str, Any], workdir: Path, hooks_url: str
) -> _Started:
    from syncwright.sandbox.netsuite import TbaCredentials, create_app

    account = str(options.get("account") or options.get("account_id") or NETSUITE_ACCOUNT)
    values = {
        key: secrets.token_hex(32)
        for key in ("consumer_key", "consumer_secret", "token_id", "token_secret")
    }
    app = create_app(account=account, credentials=TbaCredentials(**values))
    return _Started(ServerThread(app).start(), values, {"account": account})


def _salesforce(
    connection: str, options: Mapping[str, Any], workdir: Path, hooks_url: str
) -> _Started:
    from syncwright.sandbox.salesforce import (
        DEFAULT_PASSWORD,
        DEFAULT_USERNAME,
        SalesforceState,
        create_app,
    )

    # simple-salesforce and our client speak HTTPS only: a throwaway certificate, trusted
    # through options.ca_file.
    certfile, keyfile = make_self_signed_cert(workdir / f"{connection}-tls")
    values = {
        "client_id": "sandbox-" + secrets.token_hex(8),
        "client_secret": secrets.token_hex(24),
        "username": DEFAULT_USERNAME,
        "password": DEFAULT_PASSWORD,
    }
    state = SalesforceState()
    app = create_app(
        state,
        client_id=values["client_id"],
        client_secret=values["client_secret"],
        username=values["username"],
        password=values["password"],
    )
    server = ServerThread(app, certfile=certfile, keyfile=keyfile).start()
    try:
        from syncwright.sandbox.salesforce._pubsub import PubSubServer
    except ImportError:  # no salesforce-cdc extra: no Pub/Sub API, the connection polls soql
        return _Started(server, values, {"ca_file": certfile})
    # The Pub/Sub API beside it, on the same certificate; a short keepalive so that a cdc poll
    # that has caught up returns within a second (Salesforce sends one every ~270 s).
    pubsub = PubSubServer(state, certfile=certfile, keyfile=keyfile, keepalive_seconds=1.0)
    options = {"ca_file": certfile, "pubsub_endpoint": pubsub.start().endpoint}
    return _Started(server, values, options, companions=(pubsub,))


def _zendesk(
    connection: str, options: Mapping[str, Any], workdir: Path, hooks_url: str
) -> _Started:
    from syncwright.sandbox.zendesk import create_app

    token = secrets.token_hex(20)
    server = ServerThread(create_app(email=ZENDESK_EMAIL, api_token=token)).start()
    # An event webhook for organization and user changes, then its signing secret (shown only
    # by its own endpoint). https://developer.zendesk.com/api-reference/webhooks/webhooks-api/
    auth = httpx.BasicAuth(f"{ZENDESK_EMAIL}/token", token)
    hook = _register(
        server,
        "/api/v2/webhooks",
        json={
            "webhook": {
                "name": f"syncwright {connection}",
                "endpoint": hooks_url,
                "http_method": "POST",
                "request_format": "json",
                "status": "active",
                "subscriptions": list(ZENDESK_EVENTS),
            }
        },
        auth=auth,
    )["webhook"]
    secret = _register(
        server, f"/api/v2/webhooks/{hook['id']}/signing_secret", method="GET", auth=auth
    )["signing_secret"]["secret"]
    return _Started(
        server, {"email": ZENDESK_EMAIL, "api_token": token}, webhook_secret=str(secret)
    )


def _register(
    server: ServerThread, path: str, *, method: str = "POST", **request: Any
) -> dict[str, Any]:
    """One call to a just-started emulator's own API; it must succeed."""
    with httpx.Client(base_url=server.url, trust_env=False, timeout=30) as http:
        answer = http.request(method, path, **request)
    if answer.status_code >= 300:
        raise ConfigError(
            f"the emulator at {server.url} refused {method} {path}",
            code="sandbox.webhook_registration",
            problems=[f"{method} {path}: HTTP {answer.status_code}"],
        )
    body: dict[str, Any] = answer.json()
    return body


def _hubspot(
    connection: str, options: Mapping[str, Any], workdir: Path, hooks_url: str
) -> _Started:
    from syncwright.sandbox.hubspot import create_app

    token = "pat-na1-" + secrets.token_hex(16)
    client_secret = secrets.token_hex(16)
    app = create_app(access_tokens=(token,), client_secret=client_secret)
    server = ServerThread(app).start()
    # The app's webhook target (its settings page in HubSpot); the client secret signs them.
    _register(server, "/_sandbox/webhooks", json={"target_url": hooks_url})
    return _Started(server, {"access_token": token}, webhook_secret=client_secret)


def _freshdesk(
    connection: str, options: Mapping[str, Any], workdir: Path, hooks_url: str
) -> _Started:
    from syncwright.sandbox.freshdesk import create_app

    api_key = secrets.token_hex(20)
    return _Started(ServerThread(create_app(api_key=api_key)).start(), {"api_key": api_key})


def _business_central(
    connection: str, options: Mapping[str, Any], workdir: Path, hooks_url: str
) -> _Started:
    from syncwright.sandbox.business_central import COMPANY_ID, create_app

    # No subscription is registered here: Business Central validates one by calling the
    # notification URL, which answers only once ``serve`` runs (BusinessCentralClient.subscribe).
    # msal (and Entra ID itself) speak HTTPS only: a throwaway certificate, trusted through
    # options.ca_file; the emulator is both the API host and the token issuer (login_url).
    certfile, keyfile = make_self_signed_cert(workdir / f"{connection}-tls")
    tenant = str(options.get("tenant") or BUSINESS_CENTRAL_TENANT)
    environment = str(options.get("environment") or "production")
    values = {"client_id": secrets.token_hex(16), "client_secret": secrets.token_urlsafe(24)}
    app = create_app(
        tenant=tenant,
        environment=environment,
        client_id=values["client_id"],
        client_secret=values["client_secret"],
    )
    server = ServerThread(app, certfile=certfile, keyfile=keyfile).start()
    wired = {
        "tenant": tenant,
        "environment": environment,
        "company_id": COMPANY_ID,
        "login_url": server.url,
        "ca_file": certfile,
    }
    return _Started(server, values, wired)


def _chargebee(
    connection: str, options: Mapping[str, Any], workdir: Path, hooks_url: str
) -> _Started:
    from syncwright.sandbox.chargebee import create_app

    api_key = "test_" + secrets.token_hex(16)
    server = ServerThread(create_app(api_key=api_key)).start()
    # As a user does in Chargebee: a webhook endpoint at the intake with basic-auth credentials
    # (Chargebee signs nothing); they are the connection's webhook secret, user:password.
    # https://apidocs.chargebee.com/docs/api/webhook_endpoints#create_a_webhook_endpoint
    user, password = "syncwright", secrets.token_hex(16)
    _register(
        server,
        "/api/v2/webhook_endpoints",
        data={
            "name": f"syncwright {connection}",
            "url": hooks_url,
            "api_version": "v2",
            "basic_auth_username": user,
            "basic_auth_password": password,
        },
        auth=httpx.BasicAuth(api_key, ""),
    )
    return _Started(server, {"api_key": api_key}, webhook_secret=f"{user}:{password}")


_Starter = Callable[[str, Mapping[str, Any], Path, str], _Started]
_STARTERS: dict[str, _Starter] = {
    "chargebee": _chargebee,
    "example": _example,
    "freshdesk": _freshdesk,
    "hubspot": _hubspot,
    "netsuite": _netsuite,
    "salesforce": _salesforce,
    "stripe": _stripe,
    "zendesk": _zendesk,
    "business_central": _business_central,
}
#: Vendors that have an emulator in ``syncwright/sandbox``.
EMULATED_VENDORS: tuple[str, ...] = tuple(sorted(_STARTERS))


def env_name(connection: str, key: str) -> str:
    """``SANDBOX_<CONNECTION>_<KEY>``, upper case, anything else than letters/digits as ``_``."""
    return re.sub(r"[^A-Za-z0-9]+", "_", f"sandbox_{connection}_{key}").upper()


def _takes_webhooks(vendor: str) -> bool:
    from syncwright.connectors import connector_class

    return connector_class(vendor).takes_webhooks


def start_sandbox(config: Path | None, out: Path) -> Sandbox:
    """Start the emulators ``config`` names; write the pointed config to ``out`` and its env
    file beside it (``<out stem>.env``). The written config is validated before this returns;
    on any failure the emulators already started are stopped."""
    document = _read(config)
    connections = document.get("connections") or {}
    if not isinstance(connections, dict) or not connections:
        where = config if config is not None else "the default config"
        raise ConfigError(
            f"{where} names no connections to emulate",
            code="sandbox.no_connections",
            problems=[f"{where}: add connections: (vendor: one of {', '.join(EMULATED_VENDORS)})"],
        )
    out = out.resolve()
    workdir = out.parent / ".sandbox"
    hooks = hooks_base_url(document)
    env: dict[str, str] = {}
    started: list[_Stoppable] = []
    running: list[SandboxConnection] = []
    not_emulated: dict[str, str] = {}
    written = copy.deepcopy(document)
    try:
        for name, connection in written["connections"].items():
            vendor = str((connection or {}).get("vendor"))
            starter = _STARTERS.get(vendor)
            if starter is None:
                not_emulated[str(name)] = vendor
                continue
            options = dict(connection.get("options") or {})
            hooks_url = f"{hooks}/hooks/{quote(str(name), safe='')}"
            emulator = starter(str(name), options, workdir, hooks_url)
            started.append(emulator.server)
            started.extend(emulator.companions)
            sends = emulator.webhook_secret is not None
            running.append(
                SandboxConnection(
                    str(name), vendor, emulator.server.url, hooks_url if sends else None
                )
            )
            connection["base_url"] = emulator.server.url
            connection["credentials"] = {}
            for key, value in emulator.credentials.items():
                env[env_name(name, key)] = value
                connection["credentials"][key] = f"${{{env_name(name, key)}}}"
            if _takes_webhooks(vendor):
                secret_name = env_name(name, "webhook_secret")
                # The emulator's own signing secret when it sends webhooks; else a fresh one.
                env[secret_name] = emulator.webhook_secret or "whsec_" + secrets.token_hex(16)
                webhook = dict(connection.get("webhook") or {})
                webhook["secrets"] = [f"${{{secret_name}}}"]
                connection["webhook"] = webhook
            else:
                connection.pop("webhook", None)
            if emulator.options:
                connection["options"] = {**options, **emulator.options}
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(yaml.safe_dump(written, sort_keys=False), encoding="utf-8")
        env_path = out.with_suffix(".env")
        env_path.touch(mode=0o600)
        env_path.chmod(0o600)
        lines = "".join(f"export {k}={shlex.quote(v)}\n" for k, v in env.items())
        env_path.write_text(lines, encoding="utf-8")
        load_settings(out, environ=env)  # what we hand out must be a valid config
    except BaseException:
        for server in started:
            server.stop()
        raise
    return Sandbox(running, not_emulated, out, env_path, started)


def hooks_base_url(document: Mapping[str, Any]) -> str:
    """Where ``serve`` with this config receives webhooks: ``server.hooks`` when set (the
    intake's own listener), else ``server``; a wildcard bind address is reached on 127.0.0.1."""
    found = document.get("server")
    server: Mapping[str, Any] = found if isinstance(found, Mapping) else {}
    hooks = server.get("hooks")
    listener: Mapping[str, Any] = hooks if isinstance(hooks, Mapping) else server
    host = str(listener.get("host") or DEFAULT_HOST)
    port = listener.get("port") or DEFAULT_PORT
    if host in ("0.0.0.0", "::", "[::]"):
        host = DEFAULT_HOST
    if ":" in host and not host.startswith("["):
        host = f"[{host}]"
    return f"http://{host}:{port}"


def _read(config: Path | None) -> dict[str, Any]:
    """The config as plain data. Not :func:`load_settings`: its ``${ENV}`` references usually
    name production secrets that are not set (and not needed) here."""
    if config is None or not config.exists():
        return {}
    try:
        data = yaml.safe_load(config.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise ConfigError(
            f"{config}: invalid YAML", problems=[f"{config}: invalid YAML ({type(exc).__name__})"]
        ) from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(f"{config}: not a mapping", problems=[f"{config}: must be a mapping"])
    return data
