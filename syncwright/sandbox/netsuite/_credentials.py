"""The emulator's own view of one NetSuite integration's token-based-auth credentials.

Deliberately not the connector's ``TbaCredentials``: an emulator never imports connector code,
so a bug shared by both sides cannot make a wrong signature look right. Anything with the four
attributes (the connector's credentials included) can be handed to :func:`create_app`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

__all__ = ["TbaCredentials", "TbaSecrets"]


class TbaSecrets(Protocol):
    """What the emulator's verifier reads: the integration record's and the token's key pairs."""

    @property
    def consumer_key(self) -> str: ...
    @property
    def consumer_secret(self) -> str: ...
    @property
    def token_id(self) -> str: ...
    @property
    def token_secret(self) -> str: ...


@dataclass(frozen=True)
class TbaCredentials:
    """One integration record plus one access token, as the account holds them.

    Secrets stay out of ``repr`` (and so out of logs and tracebacks).
    """

    consumer_key: str
    consumer_secret: str = field(repr=False)
    token_id: str
    token_secret: str = field(repr=False)

    def __post_init__(self) -> None:
        empty = [
            name
            for name in ("consumer_key", "consumer_secret", "token_id", "token_secret")
            if not getattr(self, name)
        ]
        if empty:
            raise ValueError(f"TBA credentials incomplete: {', '.join(empty)} empty")
