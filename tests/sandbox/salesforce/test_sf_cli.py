"""``python -m syncwright.sandbox.salesforce`` serves the emulator over HTTPS."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import grpc
import pytest
import requests

from syncwright._vendor_proto.salesforce_pubsub import pubsub_api_pb2 as pb
from syncwright._vendor_proto.salesforce_pubsub import pubsub_api_pb2_grpc as pb_grpc
from syncwright.sandbox._server import free_port


def test_module_serves_https(tmp_path: Path) -> None:
    port, pubsub_port = free_port(), free_port()
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "syncwright.sandbox.salesforce",
            "--port",
            str(port),
            "--cert-dir",
            str(tmp_path),
            "--pubsub-port",
            str(pubsub_port),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        session = requests.Session()
        session.trust_env = False
        deadline = time.monotonic() + 20
        response = None
        while time.monotonic() < deadline:
            if (tmp_path / "cert.pem").exists():
                session.verify = str(tmp_path / "cert.pem")
                try:
                    response = session.get(f"https://127.0.0.1:{port}/services/data", timeout=2)
                    break
                except requests.exceptions.ConnectionError:
                    pass
            assert process.poll() is None, process.stdout.read() if process.stdout else ""
            time.sleep(0.1)
        assert response is not None and response.status_code == 200
        assert response.json()[-1]["version"] == "59.0"
        # The Pub/Sub API beside it, on the same certificate, refusing an unknown session.
        creds = grpc.ssl_channel_credentials((tmp_path / "cert.pem").read_bytes())
        with grpc.secure_channel(f"127.0.0.1:{pubsub_port}", creds) as channel:
            stub = pb_grpc.PubSubStub(channel)  # type: ignore[no-untyped-call]
            with pytest.raises(grpc.RpcError) as caught:
                stub.GetTopic(
                    pb.TopicRequest(topic_name="/data/ChangeEvents"),
                    metadata=(("accesstoken", "nobody"),),
                    timeout=20,
                )
            assert caught.value.code() == grpc.StatusCode.UNAUTHENTICATED
    finally:
        process.terminate()
        process.wait(timeout=15)
