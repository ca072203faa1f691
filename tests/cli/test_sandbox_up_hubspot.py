"""``sandbox up`` for a HubSpot connection (in-process, the command's own function): the emulator
takes the written access token, and signs webhooks with the client secret the written config
verifies them with."""

from __future__ import annotations

import threading
from pathlib import Path

import httpx
from fastapi import FastAPI, Request, Response

from syncwright.config import load_settings
from syncwright.connectors.hubspot.signature import verify_v3
from syncwright.sandbox import ServerThread
from syncwright.sandbox.up import start_sandbox


def test_sandbox_up_starts_hubspot_with_matching_token_and_webhook_secret(tmp_path: Path) -> None:
    config = tmp_path / "syncwright.yaml"
    config.write_text(
        "connections:\n  crm:\n    vendor: hubspot\n"
        '    credentials: {access_token: "${HUBSPOT_TOKEN}"}\n    options: {role: crm}\n'
    )
    received: list[tuple[bytes, dict[str, str]]] = []
    arrived = threading.Event()
    receiver = FastAPI()

    @receiver.post("/hooks/crm")
    async def hook(request: Request) -> Response:
        received.append((await request.body(), dict(request.headers)))
        arrived.set()
        return Response(status_code=204)

    sandbox = start_sandbox(config, tmp_path / "out" / "sandbox.yaml")
    try:
        with ServerThread(receiver) as hooks:
            env = {
                line.removeprefix("export ").split("=", 1)[0]: line.split("=", 1)[1]
                for line in sandbox.env_path.read_text().splitlines()
            }
            settings = load_settings(sandbox.config_path, environ=env)
            crm = settings.connections["crm"]
            token = crm.credentials["access_token"].reveal()
            url = str(crm.base_url)
            with httpx.Client(base_url=url, trust_env=False, timeout=30) as http:
                auth = {"Authorization": f"Bearer {token}"}
                assert http.get("/crm/v3/objects/companies", headers=auth).status_code == 200
                wrong = {"Authorization": "Bearer pat-na1-wrong"}
                assert http.get("/crm/v3/objects/companies", headers=wrong).status_code == 401
                target = f"{hooks.url}/hooks/crm"
                http.post(
                    "/_sandbox/webhooks",
                    json={
                        "target_url": target,
                        "subscriptions": [{"eventType": "company.creation"}],
                    },
                ).raise_for_status()
                http.post(
                    "/crm/v3/objects/companies", headers=auth, json={"properties": {"name": "A"}}
                ).raise_for_status()
            assert arrived.wait(10)
            body, headers = received[0]
            secrets = [s.reveal() for s in crm.webhook.secrets]
            verify_v3(body, headers, secrets, [target])  # raises if the secrets differ
    finally:
        sandbox.stop()
