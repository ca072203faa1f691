"""``syncwright sandbox up``: the emulators a config names, and a config pointed at them.

For each connection of the config whose vendor has an emulator here, one emulator is started on a
loopback port with fresh test credentials. The written config is the input config with each such
connection's ``base_url`` set to its emulator, its credentials (and webhook secrets, for vendors
that take webhooks) replaced by ``${SANDBOX_<CONNECTION>_<KEY>}`` references, and the options an
emulator needs (NetSuite's account, Salesforce's CA file) added. The values go to an env file
(``export NAME=value`` lines, mode 0600) and are never printed. Connections of vendors without an
emulator are kept as they are and reported.

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
from typing import Any

import yaml

from syncwright.config import load_settings
from syncwright.errors import ConfigError
from syncwright.sandbox._server import ServerThread
from syncwright.sandbox._tls import make_self_signed_cert

__all__ = ["EMULATED_VENDORS", "Sandbox", "SandboxConnection", "start_sandbox"]

ZENDESK_EMAIL = "agent@example.com"
NETSUITE_ACCOUNT = "TSTDRV1"


@dataclass(frozen=True)
class _Started:
    """One running emulator and what a connection needs to reach it."""

    server: ServerThread
    credentials: dict[str, str]
    options: dict[str, Any] = field(default_factory=dict)
    # The webhook secret in the vendor's own form, where it is not a signing key (Chargebee:
    # the basic-auth user:password its webhooks carry); None: a fresh random key.
    webhook_secret: str | None = None


@dataclass(frozen=True)
class SandboxConnection:
    connection: str
    vendor: str
    url: str


@dataclass
class Sandbox:
    """The running emulators and the files written for them; :meth:`stop` ends them."""

    connections: list[SandboxConnection]
    not_emulated: dict[str, str]  # connection -> vendor
    config_path: Path
    env_path: Path
    _servers: list[ServerThread]

    def stop(self) -> None:
        for server in self._servers:
            server.stop()


def _example(connection: str, options: Mapping[str, Any], workdir: Path) -> _Started:
    from syncwright.sandbox.example import ExampleErpState, create_app

    token = "erp-sandbox-" + secrets.token_hex(12)
    server = ServerThread(create_app(ExampleErpState(token=token))).start()
    return _Started(server, {"token": token})


def _stripe(connection: str, options: Mapping[str, Any], workdir: Path) -> _Started:
    from syncwright.sandbox.stripe import create_app

    api_key = "sk_test_" + secrets.token_hex(12)
    return _Started(ServerThread(create_app(api_key=api_key)).start(), {"api_key": api_key})


def _netsuite(connection: str, options: Mapping[str, Any], workdir: Path) -> _Started:
    from syncwright.sandbox.netsuite import TbaCredentials, create_app

    account = str(options.get("account") or options.get("account_id") or NETSUITE_ACCOUNT)
    values = {
        key: secrets.token_hex(32)
        for key in ("consumer_key", "consumer_secret", "token_id", "token_secret")
    }
    app = create_app(account=account, credentials=TbaCredentials(**values))
    return _Started(ServerThread(app).start(), values, {"account": account})


def _salesforce(connection: str, options: Mapping[str, Any], workdir: Path) -> _Started:
    from syncwright.sandbox.salesforce import (
        DEFAULT_PASSWORD,
        DEFAULT_USERNAME,
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
    app = create_app(
        client_id=values["client_id"],
        client_secret=values["client_secret"],
        username=values["username"],
        password=values["password"],
    )
    server = ServerThread(app, certfile=certfile, keyfile=keyfile).start()
    return _Started(server, values, {"ca_file": certfile})


def _zendesk(connection: str, options: Mapping[str, Any], workdir: Path) -> _Started:
    from syncwright.sandbox.zendesk import create_app

    token = secrets.token_hex(20)
    server = ServerThread(create_app(email=ZENDESK_EMAIL, api_token=token)).start()
    return _Started(server, {"email": ZENDESK_EMAIL, "api_token": token})


def _chargebee(connection: str, options: Mapping[str, Any], workdir: Path) -> _Started:
    from syncwright.sandbox.chargebee import create_app

    api_key = "test_" + secrets.token_hex(16)
    server = ServerThread(create_app(api_key=api_key)).start()
    # Point its webhooks at syncwright with POST <url>/_sandbox/webhooks {url, username,
    # password}: the credentials are the connection's webhook secret, user:password.
    hook = f"syncwright:{secrets.token_hex(16)}"
    return _Started(server, {"api_key": api_key}, webhook_secret=hook)


_Starter = Callable[[str, Mapping[str, Any], Path], _Started]
_STARTERS: dict[str, _Starter] = {
    "chargebee": _chargebee,
    "example": _example,
    "netsuite": _netsuite,
    "salesforce": _salesforce,
    "stripe": _stripe,
    "zendesk": _zendesk,
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
    env: dict[str, str] = {}
    started: list[ServerThread] = []
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
            emulator = starter(str(name), options, workdir)
            started.append(emulator.server)
            running.append(SandboxConnection(str(name), vendor, emulator.server.url))
            connection["base_url"] = emulator.server.url
            connection["credentials"] = {}
            for key, value in emulator.credentials.items():
                env[env_name(name, key)] = value
                connection["credentials"][key] = f"${{{env_name(name, key)}}}"
            if _takes_webhooks(vendor):
                secret_name = env_name(name, "webhook_secret")
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
