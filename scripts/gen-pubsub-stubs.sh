#!/usr/bin/env bash
# Regenerate the Python stubs of Salesforce's Pub/Sub API proto (run from the repository root).
# The generated modules are committed; tests/connectors/salesforce/test_pubsub_stubs.py runs this
# into a temporary folder and fails when the result differs from what is committed.
#   usage: scripts/gen-pubsub-stubs.sh [OUT_DIR]   (default: the repository itself)
set -euo pipefail
out="${1:-.}"
python="${PYTHON:-.venv/bin/python}"
# -I . makes the generated gRPC module import its messages by their full package path.
"$python" -m grpc_tools.protoc -I . \
  --python_out="$out" --pyi_out="$out" --grpc_python_out="$out" \
  syncwright/_vendor_proto/salesforce_pubsub/pubsub_api.proto
