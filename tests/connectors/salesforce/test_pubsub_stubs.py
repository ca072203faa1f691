"""The committed Pub/Sub API stubs are exactly what the pinned grpcio-tools generates from the
committed proto, and the proto is Salesforce's as collected (tests/vendor/PROVENANCE.md)."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
PACKAGE = Path("syncwright/_vendor_proto/salesforce_pubsub")
GENERATED = ("pubsub_api_pb2.py", "pubsub_api_pb2.pyi", "pubsub_api_pb2_grpc.py")
# sha256/16 of pubsub_api.proto in the vendor collection's MANIFEST.md.
PROTO_SHA256_16 = "0a651295ff3ff135"


def test_the_proto_is_salesforces() -> None:
    digest = hashlib.sha256((ROOT / PACKAGE / "pubsub_api.proto").read_bytes()).hexdigest()
    assert digest[:16] == PROTO_SHA256_16


def test_regenerating_the_stubs_reproduces_the_committed_ones(tmp_path: Path) -> None:
    subprocess.run(
        ["bash", "scripts/gen-pubsub-stubs.sh", str(tmp_path)],
        cwd=ROOT,
        check=True,
        env={**os.environ, "PYTHON": sys.executable},
    )
    for name in GENERATED:
        fresh = (tmp_path / PACKAGE / name).read_text()
        assert fresh == (ROOT / PACKAGE / name).read_text(), (
            f"{PACKAGE / name} differs from the generator's output: run scripts/gen-pubsub-stubs.sh"
        )
