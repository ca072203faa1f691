"""``python -m syncwright.sandbox.netsuite --port 8040``: serve the NetSuite emulator.

Credentials come from ``--consumer-key``/``--token-id`` (ids) and the environment variables
``NETSUITE_CONSUMER_KEY``, ``NETSUITE_CONSUMER_SECRET``, ``NETSUITE_TOKEN_ID`` and
``NETSUITE_TOKEN_SECRET`` (secrets are best passed this way: arguments show up in ``ps``).
Only the ids are ever printed.
"""

from __future__ import annotations

import argparse
import os
import sys

import uvicorn

from syncwright.sandbox._server import LOOPBACK
from syncwright.sandbox.netsuite._app import create_app
from syncwright.sandbox.netsuite._credentials import TbaCredentials


def main(argv: list[str] | None = None) -> int:
    env = os.environ
    parser = argparse.ArgumentParser(
        prog="python -m syncwright.sandbox.netsuite",
        description="NetSuite SuiteTalk REST web services emulator on 127.0.0.1.",
    )
    parser.add_argument("--port", type=int, default=8040)
    parser.add_argument("--account", default=env.get("NETSUITE_ACCOUNT", "TSTDRV1"))
    parser.add_argument("--concurrency-limit", type=int, default=5)
    parser.add_argument("--consumer-key", default=env.get("NETSUITE_CONSUMER_KEY"))
    parser.add_argument("--consumer-secret", default=env.get("NETSUITE_CONSUMER_SECRET"))
    parser.add_argument("--token-id", default=env.get("NETSUITE_TOKEN_ID"))
    parser.add_argument("--token-secret", default=env.get("NETSUITE_TOKEN_SECRET"))
    parser.add_argument("--log-level", default="warning")
    args = parser.parse_args(argv)

    try:
        credentials = TbaCredentials(
            consumer_key=args.consumer_key or "",
            consumer_secret=args.consumer_secret or "",
            token_id=args.token_id or "",
            token_secret=args.token_secret or "",
        )
    except ValueError as exc:
        parser.error(
            f"{exc}; set NETSUITE_CONSUMER_KEY, NETSUITE_CONSUMER_SECRET, NETSUITE_TOKEN_ID "
            "and NETSUITE_TOKEN_SECRET (or the matching options)"
        )
    app = create_app(
        account=args.account, credentials=credentials, concurrency_limit=args.concurrency_limit
    )
    print(
        f"NetSuite sandbox for account {args.account} on http://{LOOPBACK}:{args.port}\n"
        f"  consumer key {credentials.consumer_key}, token id {credentials.token_id}\n"
        f"  concurrency limit {args.concurrency_limit}; admin API at /_sandbox/stats",
        flush=True,
    )
    uvicorn.run(app, host=LOOPBACK, port=args.port, log_level=args.log_level)
    return 0


if __name__ == "__main__":
    sys.exit(main())
