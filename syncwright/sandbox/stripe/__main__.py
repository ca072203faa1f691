"""``python -m syncwright.sandbox.stripe --port 12111``: serve the Stripe emulator."""

from __future__ import annotations

import argparse

from syncwright.sandbox.stripe import run


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m syncwright.sandbox.stripe", description="Serve the Stripe emulator."
    )
    parser.add_argument("--port", type=int, default=12111)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--api-key", default="sk_test_sandbox")
    parser.add_argument(
        "--rate-limit", type=float, default=None, help="requests per second (default: unlimited)"
    )
    args = parser.parse_args(argv)
    print(f"Stripe sandbox on http://{args.host}:{args.port} (api key {args.api_key})")
    run(args.port, host=args.host, api_key=args.api_key, rate_limit_per_second=args.rate_limit)


if __name__ == "__main__":
    main()
