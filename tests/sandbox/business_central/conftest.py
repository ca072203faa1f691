"""One Business Central emulator (TLS: msal wants an https authority) per test module, reset
before each test; a webhook receiver that answers the validation handshake."""

from __future__ import annotations

import secrets
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import msal
import pytest
import requests
from fastapi import FastAPI, Request
from fastapi.responses import PlainTextResponse, Response

from syncwright.sandbox import ServerThread
from syncwright.sandbox._tls import make_self_signed_cert
from syncwright.sandbox.business_central import (
    BC_SCOPE,
    COMPANY_ID,
    BusinessCentralSandbox,
    create_app,
    sandbox_of,
)

TENANT = "contoso.onmicrosoft.com"
ENVIRONMENT = "production"


@dataclass
class Receiver:
    """A subscriber's notification URL: answers ``?validationToken=`` and keeps batches."""

    batches: list[dict[str, Any]] = field(default_factory=list)
    answer_handshake: bool = True
    lock: threading.Lock = field(default_factory=threading.Lock)

    def app(self) -> FastAPI:
        app = FastAPI()

        @app.post("/hook")
        async def hook(request: Request) -> Response:
            token = request.query_params.get("validationToken")
            if token is not None:
                return PlainTextResponse(token if self.answer_handshake else "no", 200)
            with self.lock:
                self.batches.append(await request.json())
            return Response(status_code=202)

        return app


@dataclass
class BcEnv:
    url: str
    certfile: str
    client_id: str
    client_secret: str
    sandbox: BusinessCentralSandbox
    receiver: Receiver
    receiver_url: str

    @property
    def authority(self) -> str:
        return self.sandbox.authority(self.url)

    @property
    def api(self) -> str:
        return self.sandbox.api_root(self.url)

    @property
    def company(self) -> str:
        return f"{self.api}/companies({COMPANY_ID})"

    def session(self) -> requests.Session:
        # trust_env off: REQUESTS_CA_BUNDLE would override verify (DESIGN.md section 5).
        session = requests.Session()
        session.trust_env = False
        session.verify = self.certfile
        return session

    def msal_app(self, secret: str | None = None) -> msal.ConfidentialClientApplication:
        return msal.ConfidentialClientApplication(
            self.client_id,
            client_credential=secret or self.client_secret,
            authority=self.authority,
            instance_discovery=False,
            http_client=self.session(),
        )

    def token(self) -> str:
        result = self.msal_app().acquire_token_for_client(scopes=[BC_SCOPE])
        assert "access_token" in result, result
        token: str = result["access_token"]
        return token

    def authed(self) -> requests.Session:
        session = self.session()
        session.headers["Authorization"] = f"Bearer {self.token()}"
        return session


@pytest.fixture(scope="module")
def _bc_server(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[ServerThread, str, str, str, BusinessCentralSandbox, Receiver, str]]:
    certfile, keyfile = make_self_signed_cert(tmp_path_factory.mktemp("bc-tls"))
    client_id, client_secret = secrets.token_hex(16), secrets.token_urlsafe(24)
    app = create_app(
        tenant=TENANT,
        environment=ENVIRONMENT,
        client_id=client_id,
        client_secret=client_secret,
        page_size=3,
    )
    receiver = Receiver()
    with (
        ServerThread(app, certfile=certfile, keyfile=keyfile) as server,
        ServerThread(receiver.app()) as hook,
    ):
        yield (
            server,
            certfile,
            client_id,
            client_secret,
            sandbox_of(app),
            receiver,
            f"{hook.url}/hook",
        )


@pytest.fixture
def bc(
    _bc_server: tuple[ServerThread, str, str, str, BusinessCentralSandbox, Receiver, str],
) -> BcEnv:
    server, certfile, client_id, client_secret, sandbox, receiver, hook_url = _bc_server
    sandbox.reset()
    receiver.batches.clear()
    receiver.answer_handshake = True
    return BcEnv(server.url, certfile, client_id, client_secret, sandbox, receiver, hook_url)
