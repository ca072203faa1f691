"""``python -m syncwright.sandbox.freshdesk --port 8026``: serve the emulator on 127.0.0.1."""

from __future__ import annotations

import argparse

import uvicorn

from syncwright.sandbox._server import LOOPBACK
from syncwright.sandbox.freshdesk._app import DEFAULT_API_KEY, create_app


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m syncwright.sandbox.freshdesk")
    parser.add_argument("--port", type=int, default=8026)
    parser.add_argument("--api-key", default=DEFAULT_API_KEY)
    parser.add_argument("--requests-per-minute", type=int, default=700)
    parser.add_argument("--log-level", default="info")
    args = parser.parse_args(argv)
    app = create_app(api_key=args.api_key, requests_per_minute=args.requests_per_minute)
    print(
        f"Freshdesk sandbox on http://{LOOPBACK}:{args.port}/api/v2 "
        "(basic auth: the API key as username, any password; admin at /_sandbox/stats)",
        flush=True,
    )
    uvicorn.run(app, host=LOOPBACK, port=args.port, log_level=args.log_level)


if __name__ == "__main__":
    main()
