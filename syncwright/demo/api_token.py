"""The demos' operator API token: every /api/v1 call needs one. A secret file (mode 0600)
referenced from the demo's config (the billing and quote-to-cash world writes its own, with
the same name and file: ``billing_world.DEMO_TOKENS``); the demos print how to use it, not its
value."""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Final

from rich.console import Console

TOKEN_FILE: Final = "secrets/demo_operator_token"  # noqa: S105 - a path, not a value
TOKEN_NAME: Final = "demo-operator"  # noqa: S105 - who holds it
#: The ``auth:`` section of a demo config (relative to the config's directory).
AUTH_SECTION: Final = f"""\
auth:
  tokens:
    - name: {TOKEN_NAME}
      role: operator
      secret: "file:{TOKEN_FILE}"
"""


def write_api_token(workdir: Path) -> Path:
    """A fresh random token in ``workdir/secrets/demo_operator_token``; returns the file."""
    path = workdir / TOKEN_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(secrets.token_urlsafe(32))
    path.chmod(0o600)
    return path


def print_api_usage(console: Console, api_url: str, workdir: Path) -> None:
    token_file = (workdir / TOKEN_FILE).resolve()
    console.print(
        f"  API token ({TOKEN_NAME}, operator) in {token_file}:\n"
        f'    curl -H "Authorization: Bearer $(cat {token_file})" {api_url}/api/v1/exceptions',
        soft_wrap=True,
    )
