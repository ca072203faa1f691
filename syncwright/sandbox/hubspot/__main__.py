"""``python -m syncwright.sandbox.hubspot --port 8026``: serve the emulator on 127.0.0.1."""

from __future__ import annotations

import argparse

import uvicorn

from syncwright.sandbox._server import LOOPBACK
from syncwright.sandbox.hubspot._app import DEFAULT_ACCESS_TOKEN, create_app


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m syncwright.sandbox.hubspot")
    parser.add_argument("--port", type=int, default=8026)
    parser.add_argument("--access-token", default=DEFAULT_ACCESS_TOKEN)
    parser.add_argument("--log-level", default="info")
    args = parser.parse_args(argv)
    print(
        f"HubSpot sandbox on http://{LOOPBACK}:{args.port} (bearer token: the one given with "
        "--access-token, or the default in syncwright.sandbox.hubspot; admin at /_sandbox/stats)",
        flush=True,
    )
    uvicorn.run(
        create_app(access_tokens=(args.access_token,)),
        host=LOOPBACK,
        port=args.port,
        log_level=args.log_level,
    )


if __name__ == "__main__":
    main()
