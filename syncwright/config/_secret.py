"""``Secret``: a credential that is read from the environment or a file, and never printed.

In ``syncwright.yaml`` a secret is written only as a *reference*:

- ``${STRIPE_API_KEY}`` or ``{env: STRIPE_API_KEY}`` -- an environment variable;
- ``file:/run/secrets/stripe_api_key`` or ``{file: /run/secrets/stripe_api_key}`` -- a file
  (relative paths are relative to the config file; one trailing newline is dropped).

References are resolved while the settings are validated, so a missing variable or an unreadable
file is a config problem at start-up, not a 401 at three in the morning. A literal value is refused
with a message that says how to move it out of the file. Error messages name the variable or the
file, never a value.
"""

from __future__ import annotations

import hmac
import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Final, final

from pydantic import GetCoreSchemaHandler, GetJsonSchemaHandler, ValidationInfo
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import PydanticCustomError, core_schema

__all__ = ["MASK", "Secret", "SecretReferenceError", "resolve_secret"]

MASK: Final = "**********"

_ENV_NAME = r"[A-Za-z_][A-Za-z0-9_]*"
_ENV_REF = re.compile(rf"^\$\{{({_ENV_NAME})\}}$")
_ENV_NAME_RE = re.compile(rf"^{_ENV_NAME}$")

#: Error types raised by secret validation (pydantic ``type`` of each error).
LITERAL_ERROR: Final = "secret_literal"
REFERENCE_ERROR: Final = "secret_reference"
UNRESOLVED_ERROR: Final = "secret_unresolved"

_HOW = "write ${ENV_NAME}, file:/path/to/file, {env: ENV_NAME} or {file: /path/to/file}"


class SecretReferenceError(ValueError):
    """A reference that is malformed or cannot be resolved. The message never holds a value.

    ``kind`` is one of ``secret_literal``, ``secret_reference``, ``secret_unresolved``.
    """

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message


@final
class Secret:
    """A secret value. ``str``, ``repr``, ``format`` and every pydantic dump show ``**********``.

    Call :meth:`reveal` at the one place the value is really needed (an HTTP header, an HMAC).
    ``source`` tells where it came from (``${NAME}`` or ``file:PATH``) and is safe to show.
    Two secrets are equal when their values are equal (compared in constant time).
    """

    __slots__ = ("_source", "_value")

    def __init__(self, value: str, *, source: str = "<python>") -> None:
        if not isinstance(value, str):
            raise TypeError("Secret value must be a str")
        self._value = value
        self._source = source

    def reveal(self) -> str:
        """The secret value itself. Never log it."""
        return self._value

    @property
    def source(self) -> str:
        """Where the value came from, e.g. ``${STRIPE_API_KEY}`` or ``file:/run/secrets/x``."""
        return self._source

    def __str__(self) -> str:
        return MASK

    def __repr__(self) -> str:
        return f"Secret({MASK!r})"

    def __format__(self, format_spec: str) -> str:
        return format(MASK, format_spec)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Secret):
            return NotImplemented
        return hmac.compare_digest(self._value.encode(), other._value.encode())

    def __hash__(self) -> int:
        return hash((Secret, self._value))

    def __copy__(self) -> Secret:
        return self  # immutable

    def __deepcopy__(self, memo: dict[int, Any]) -> Secret:
        return self  # immutable; also keeps model_copy(deep=True) working

    def __reduce__(self) -> Any:
        # Durable state uses JSON, never pickle; refuse so a secret cannot leak that way.
        raise TypeError("Secret values cannot be pickled")

    # -- pydantic integration -----------------------------------------------------------------

    @classmethod
    def __get_pydantic_core_schema__(
        cls, source_type: Any, handler: GetCoreSchemaHandler
    ) -> core_schema.CoreSchema:
        return core_schema.with_info_plain_validator_function(
            _validate,
            serialization=core_schema.plain_serializer_function_ser_schema(
                _mask, return_schema=core_schema.str_schema(), when_used="always"
            ),
        )

    @classmethod
    def __get_pydantic_json_schema__(
        cls, schema: core_schema.CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        return secret_json_schema()


def secret_json_schema() -> dict[str, Any]:
    """How a secret is *written* in YAML (the value itself never appears in the file)."""
    return {
        "title": "Secret reference",
        "description": (
            "A secret is never written in the file. Use ${ENV_NAME} (environment variable), "
            "file:/path/to/file (file content, trailing newline dropped; relative to the config "
            "file), {env: ENV_NAME} or {file: PATH}."
        ),
        "oneOf": [
            {
                "type": "string",
                "pattern": rf"^\$\{{{_ENV_NAME}\}}$",
                "description": "${ENV_NAME}: read from an environment variable",
                "examples": ["${STRIPE_API_KEY}"],
            },
            {
                "type": "string",
                "pattern": "^file:.+$",
                "description": "file:PATH: read from a file",
                "examples": ["file:/run/secrets/stripe_api_key"],
            },
            {
                "type": "object",
                "properties": {"env": {"type": "string", "pattern": f"^{_ENV_NAME}$"}},
                "required": ["env"],
                "additionalProperties": False,
            },
            {
                "type": "object",
                "properties": {"file": {"type": "string", "minLength": 1}},
                "required": ["file"],
                "additionalProperties": False,
            },
        ],
    }


def _mask(_value: Any) -> str:
    return MASK


def _validate(value: Any, info: ValidationInfo) -> Secret:
    if isinstance(value, Secret):
        return value
    context = info.context if isinstance(info.context, Mapping) else {}
    environ = context.get("environ")
    base_dir = context.get("base_dir")
    try:
        return resolve_secret(
            value,
            environ=environ if isinstance(environ, Mapping) else None,
            base_dir=base_dir if isinstance(base_dir, Path) else None,
        )
    except SecretReferenceError as exc:
        raise PydanticCustomError(exc.kind, exc.message) from None


def resolve_secret(
    reference: Any,
    *,
    environ: Mapping[str, str] | None = None,
    base_dir: Path | None = None,
) -> Secret:
    """Resolve a reference as written in YAML (``${NAME}``, ``file:PATH``, ``{env: ..}``, ...).

    Raises :class:`SecretReferenceError` (never containing a value) when the reference is a
    literal, malformed, or cannot be resolved.
    """
    env = os.environ if environ is None else environ
    if isinstance(reference, Mapping):
        return _resolve_mapping(reference, env, base_dir)
    if not isinstance(reference, str):
        raise SecretReferenceError(
            LITERAL_ERROR,
            "a secret cannot be written as a literal value in the file; "
            f"{_HOW} and put the value there",
        )
    text = reference.strip()
    if not text:
        raise SecretReferenceError(REFERENCE_ERROR, f"is empty; {_HOW}")
    match = _ENV_REF.match(text)
    if match:
        return _from_env(match.group(1), env)
    if text.startswith("file:"):
        return _from_file(text[len("file:") :], base_dir)
    if text.startswith("$"):
        raise SecretReferenceError(
            REFERENCE_ERROR,
            "is not a valid environment reference; write it as ${ENV_NAME} (braces required; "
            "letters, digits and underscores)",
        )
    raise SecretReferenceError(
        LITERAL_ERROR,
        "looks like a literal secret; secrets must not be written in the file. "
        f"Put the value in an environment variable or a file and {_HOW}",
    )


def _resolve_mapping(ref: Mapping[Any, Any], env: Mapping[str, str], base: Path | None) -> Secret:
    keys = set(ref)
    if keys == {"env"}:
        name = ref["env"]
        if not isinstance(name, str) or not _ENV_NAME_RE.match(name):
            raise SecretReferenceError(
                REFERENCE_ERROR,
                "env: must be an environment variable name (letters, digits and underscores)",
            )
        return _from_env(name, env)
    if keys == {"file"}:
        path = ref["file"]
        if not isinstance(path, str):
            raise SecretReferenceError(REFERENCE_ERROR, "file: must be a path")
        return _from_file(path, base)
    raise SecretReferenceError(
        REFERENCE_ERROR, f"a secret mapping takes exactly one key, env or file; {_HOW}"
    )


def _from_env(name: str, env: Mapping[str, str]) -> Secret:
    value = env.get(name)
    if value is None:
        raise SecretReferenceError(
            UNRESOLVED_ERROR,
            f"environment variable {name} is not set; export {name} before starting syncwright "
            "(or point this at a file with file:/path/to/file)",
        )
    if not value:
        raise SecretReferenceError(UNRESOLVED_ERROR, f"environment variable {name} is empty")
    return Secret(value, source="${" + name + "}")


def _from_file(raw: str, base: Path | None) -> Secret:
    raw = raw.strip()
    if not raw:
        raise SecretReferenceError(REFERENCE_ERROR, "file: needs a path, e.g. file:/run/secrets/x")
    path = Path(raw).expanduser()
    if not path.is_absolute():
        path = (base or Path.cwd()) / path
    try:
        content = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise SecretReferenceError(
            UNRESOLVED_ERROR, f"secret file {path} is not UTF-8 text"
        ) from None
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise SecretReferenceError(
            UNRESOLVED_ERROR, f"cannot read secret file {path}: {reason}"
        ) from None
    # One trailing newline is what editors and `echo` add; it is never part of the secret.
    if content.endswith("\r\n"):
        content = content[:-2]
    elif content.endswith("\n"):
        content = content[:-1]
    if not content:
        raise SecretReferenceError(UNRESOLVED_ERROR, f"secret file {path} is empty")
    return Secret(content, source=f"file:{path}")
