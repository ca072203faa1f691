"""Tokens, roles and the ``require`` dependency, on a small FastAPI app of their own."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi import Depends, FastAPI, Request
from fastapi.testclient import TestClient
from pydantic import ValidationError

from syncwright.api.auth import (
    AdminPrincipal,
    Principal,
    TokenRegistry,
    authorize_api,
    install_tokens,
    require,
    required_role,
)
from syncwright.config import Secret, Settings, TokenSettings

VIEWER = "viewer-token-0123456789"
OPERATOR = "operator-token-0123456789"
ADMIN = "admin-token-0123456789"


def _tokens() -> list[TokenSettings]:
    return [
        TokenSettings(name="grafana", role="viewer", secret=Secret(VIEWER)),
        TokenSettings(name="ops", role="operator", secret=Secret(OPERATOR)),
        TokenSettings(name="root", role="admin", secret=Secret(ADMIN)),
    ]


def test_roles_are_ordered() -> None:
    viewer, operator, admin = (Principal("a", r) for r in ("viewer", "operator", "admin"))
    assert viewer.can("viewer") and not viewer.can("operator") and not viewer.can("admin")
    assert operator.can("viewer") and operator.can("operator") and not operator.can("admin")
    assert admin.can("viewer") and admin.can("operator") and admin.can("admin")


def test_registry_authenticates_each_token_and_nothing_else() -> None:
    registry = TokenRegistry(_tokens())
    assert registry.authenticate(VIEWER) == Principal("grafana", "viewer")
    assert registry.authenticate(OPERATOR) == Principal("ops", "operator")
    assert registry.authenticate(ADMIN) == Principal("root", "admin")
    for wrong in ("", VIEWER[:-1], VIEWER + "x", "é" * 20, VIEWER.upper()):
        assert registry.authenticate(wrong) is None


def test_registry_from_settings() -> None:
    settings = Settings.model_validate({"auth": {"tokens": []}})
    assert len(TokenRegistry.from_settings(settings)) == 0
    settings = Settings(auth={"tokens": _tokens()})  # type: ignore[arg-type]
    assert TokenRegistry.from_settings(settings).authenticate(ADMIN) == Principal("root", "admin")


@pytest.mark.parametrize(
    ("tokens", "message"),
    [
        (
            [{"name": "a", "role": "viewer", "secret": "short"}],
            "shorter than 16 characters",
        ),
        (
            [{"name": "a", "role": "boss", "secret": VIEWER}],
            "'viewer', 'operator' or 'admin'",
        ),
        (
            [
                {"name": "a", "role": "viewer", "secret": VIEWER},
                {"name": "a", "role": "admin", "secret": ADMIN},
            ],
            "'a' is already used at tokens[0]",
        ),
        (
            [
                {"name": "a", "role": "viewer", "secret": VIEWER},
                {"name": "b", "role": "admin", "secret": VIEWER},
            ],
            "same value as token 'a'",
        ),
    ],
)
def test_bad_tokens_are_config_errors(tokens: list[dict[str, Any]], message: str) -> None:
    resolved = [{**t, "secret": Secret(t["secret"])} for t in tokens]
    with pytest.raises(ValidationError) as caught:
        Settings.model_validate({"auth": {"tokens": resolved}})
    assert message in str(caught.value)
    assert VIEWER not in str(caught.value)


def test_require_refuses_an_unknown_role() -> None:
    with pytest.raises(ValueError, match="unknown role 'root'"):
        require("root")  # type: ignore[arg-type]


def test_required_role_by_path_and_method() -> None:
    assert required_role("/api/v1/exceptions", "GET") == "viewer"
    assert required_role("/api/v1/exceptions/x/retry", "POST") == "operator"
    assert required_role("/api/v1", "DELETE") == "operator"
    assert required_role("/api/v10/x", "GET") is None
    assert required_role("/hooks/stripe", "POST") is None
    assert required_role("/healthz", "GET") is None


def _app(registry: TokenRegistry) -> FastAPI:
    app = FastAPI(dependencies=[Depends(authorize_api)])
    install_tokens(app, registry)

    @app.get("/api/v1/thing")
    def read() -> dict[str, str]:
        return {"ok": "read"}

    @app.post("/api/v1/thing")
    def write() -> dict[str, str]:
        return {"ok": "write"}

    @app.post("/api/v1/config")
    def configure(who: AdminPrincipal) -> dict[str, str]:
        return {"actor": who.name}

    @app.get("/public")
    def public() -> dict[str, str]:
        return {"ok": "public"}

    @app.middleware("http")
    async def session(request: Request, call_next: Any) -> Any:
        if request.headers.get("x-test-session") == "admin":
            request.state.principal = Principal("console:alice", "admin")
        return await call_next(request)

    return app


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_require_answers_401_403_and_passes_the_principal() -> None:
    client = TestClient(_app(TokenRegistry(_tokens())))
    missing = client.get("/api/v1/thing")
    assert missing.status_code == 401
    assert missing.headers["www-authenticate"] == "Bearer"
    assert "Authorization: Bearer" in missing.json()["detail"]
    wrong = client.get("/api/v1/thing", headers=_bearer("not-a-token-at-all"))
    assert wrong.status_code == 401 and wrong.headers["www-authenticate"] == "Bearer"
    basic = client.get("/api/v1/thing", headers={"Authorization": f"Basic {VIEWER}"})
    assert basic.status_code == 401
    assert client.get("/api/v1/thing", headers=_bearer(VIEWER)).json() == {"ok": "read"}
    denied = client.post("/api/v1/thing", headers=_bearer(VIEWER))
    assert denied.status_code == 403 and "operator" in denied.json()["detail"]
    assert client.post("/api/v1/thing", headers=_bearer(OPERATOR)).json() == {"ok": "write"}
    assert client.post("/api/v1/config", headers=_bearer(OPERATOR)).status_code == 403
    assert client.post("/api/v1/config", headers=_bearer(ADMIN)).json() == {"actor": "root"}
    assert client.get("/public").json() == {"ok": "public"}
    # A session principal set by a console middleware is accepted without a bearer header.
    session = client.post("/api/v1/config", headers={"x-test-session": "admin"})
    assert session.json() == {"actor": "console:alice"}


def test_no_tokens_configured_means_every_api_call_is_refused() -> None:
    client = TestClient(_app(TokenRegistry([])))
    response = client.get("/api/v1/thing", headers=_bearer(VIEWER))
    assert response.status_code == 401
    assert "auth.tokens" in response.json()["detail"]
