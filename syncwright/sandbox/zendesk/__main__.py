"""``python -m syncwright.sandbox.zendesk --port 8025``: serve the emulator on 127.0.0.1."""

from __future__ import annotations

import argparse

import uvicorn

from syncwright.sandbox._server import LOOPBACK
from syncwright.sandbox.zendesk._app import DEFAULT_API_TOKEN, create_app


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m syncwright.sandbox.zendesk")
    parser.add_argument("--port", type=int, default=8025)
    parser.add_argument("--subdomain", default="syncwright")
    parser.add_argument("--email", default="agent@example.com")
    parser.add_argument("--api-token", default=DEFAULT_API_TOKEN)
    parser.add_argument("--requests-per-minute", type=int, default=700)
    parser.add_argument("--log-level", default="info")
    args = parser.parse_args(argv)
    app = create_app(
        subdomain=args.subdomain,
        email=args.email,
        api_token=args.api_token,
        requests_per_minute=args.requests_per_minute,
    )
    print(
        f"Zendesk sandbox on http://{LOOPBACK}:{args.port}/api/v2 "
        f"(basic auth {args.email}/token : {args.api_token}; admin at /_sandbox/stats)",
        flush=True,
    )
    uvicorn.run(app, host=LOOPBACK, port=args.port, log_level=args.log_level)


if __name__ == "__main__":
    main()
