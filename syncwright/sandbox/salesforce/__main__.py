"""``python -m syncwright.sandbox.salesforce --port 8443``: serve the emulator over HTTPS.

simple-salesforce only speaks HTTPS, so TLS is on by default with a throwaway self-signed
certificate; point your client's ``verify`` at the printed ``cert.pem``.
"""

from __future__ import annotations

import argparse
import tempfile

import uvicorn

from .._tls import make_self_signed_cert
from ._app import create_app
from ._auth import DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, DEFAULT_PASSWORD, DEFAULT_USERNAME
from ._state import SalesforceState


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m syncwright.sandbox.salesforce")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8443)
    parser.add_argument("--api-version", default="59.0")
    parser.add_argument("--daily-api-limit", type=int, default=100_000)
    parser.add_argument("--cert-dir", help="where to write cert.pem/key.pem (default: a temp dir)")
    parser.add_argument(
        "--no-tls", action="store_true", help="plain HTTP (not for simple-salesforce)"
    )
    parser.add_argument("--client-id", default=DEFAULT_CLIENT_ID)
    parser.add_argument("--client-secret", default=DEFAULT_CLIENT_SECRET)
    parser.add_argument("--username", default=DEFAULT_USERNAME)
    parser.add_argument("--password", default=DEFAULT_PASSWORD)
    parser.add_argument(
        "--pubsub-port",
        type=int,
        default=7443,
        help="port of the Pub/Sub API (gRPC, TLS unless --no-tls; needs the salesforce-cdc extra)",
    )
    parser.add_argument("--no-pubsub", action="store_true", help="serve no Pub/Sub API")
    args = parser.parse_args(argv)

    state = SalesforceState(api_version=args.api_version)
    app = create_app(
        state,
        api_version=args.api_version,
        client_id=args.client_id,
        client_secret=args.client_secret,
        username=args.username,
        password=args.password,
        daily_api_limit=args.daily_api_limit,
    )
    certfile = keyfile = None
    if not args.no_tls:
        certfile, keyfile = make_self_signed_cert(
            args.cert_dir or tempfile.mkdtemp(prefix="syncwright-sf-")
        )
    scheme = "http" if args.no_tls else "https"
    print(f"Salesforce emulator on {scheme}://{args.host}:{args.port}")
    if certfile:
        print(f"  trust this certificate: {certfile}")
    print(f"  client_id={args.client_id} username={args.username}")
    print(f"  token:  POST {scheme}://{args.host}:{args.port}/services/oauth2/token")
    print(f"  sandbox control API: {scheme}://{args.host}:{args.port}/_sandbox/docs")
    pubsub = None
    if not args.no_pubsub:
        try:
            from ._pubsub import PubSubServer
        except ImportError:
            print("  Pub/Sub API not served: pip install 'syncwright[salesforce-cdc]'")
        else:
            pubsub = PubSubServer(
                state, host=args.host, port=args.pubsub_port, certfile=certfile, keyfile=keyfile
            ).start()
            print(f"  Pub/Sub API (gRPC, options.pubsub_endpoint): {pubsub.endpoint}")
    uvicorn.run(
        app,
        host=args.host,
        port=args.port,
        ssl_certfile=certfile,
        ssl_keyfile=keyfile,
        # With TLS, idle keep-alive connections otherwise hold shutdown until the SSL
        # shutdown times out (~30 s).
        timeout_graceful_shutdown=2,
    )
    if pubsub is not None:
        pubsub.stop()


if __name__ == "__main__":
    main()
