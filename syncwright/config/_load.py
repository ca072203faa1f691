"""Reading ``syncwright.yaml``: YAML -> plain data -> :class:`Settings`, every problem at once.

A problem is one line, ``"<dotted.path>: <what is wrong and how to fix it> (line N)"``. All
problems of a file are collected and raised together as one :class:`ConfigError`, so a user
fixes a config in one round instead of one error per start. No message ever contains an input
value: a typo'd key could hold a pasted secret, and environment values are secrets by default.
"""

from __future__ import annotations

import difflib
import os
import re
import types
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, Final, Union, get_args, get_origin

import yaml
from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from syncwright.errors import ConfigError

from ._models import NAME_RULES, Loc, Settings, reference_problems
from ._options import option_problems
from ._secret import LITERAL_ERROR
from ._vendors import installed_vendors

__all__ = ["DEFAULT_CONFIG_PATH", "format_loc", "load_settings", "parse_settings"]

#: Where commands look when no ``--config`` is given.
DEFAULT_CONFIG_PATH: Final = Path("syncwright.yaml")


def load_settings(path: Path | None, *, environ: Mapping[str, str] | None = None) -> Settings:
    """Load and validate a config file.

    - ``path`` is ``None`` or the file does not exist: the documented defaults (an embedded
      SQLite database, no connections).
    - The YAML does not parse: :class:`ConfigError` naming line and column.
    - Anything is invalid: one :class:`ConfigError` whose ``problems`` lists every problem.

    ``environ`` resolves ``${NAME}`` secret references (default: ``os.environ``); relative
    ``file:`` secrets and mapping paths are relative to the file's directory.
    """
    if path is None:
        return Settings()
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return Settings()
    except UnicodeDecodeError:
        problem = f"{path}: is not UTF-8 text"
        raise ConfigError(problem, problems=[problem]) from None
    except OSError as exc:
        problem = f"{path}: cannot read the config file: {exc.strerror or type(exc).__name__}"
        raise ConfigError(problem, problems=[problem]) from None
    return parse_settings(text, source=str(path), environ=environ, base_dir=path.resolve().parent)


def parse_settings(
    text: str,
    *,
    source: str = "<string>",
    environ: Mapping[str, str] | None = None,
    base_dir: Path | None = None,
) -> Settings:
    """Validate config text (YAML). ``source`` names it in messages; see :func:`load_settings`."""
    root, data = _parse_yaml(text, source)
    problems: list[tuple[Loc, str]] = list(_duplicate_keys(root, ()))
    if data is None:
        data = {}
    if not isinstance(data, Mapping):
        problems.append(((), "must be a mapping of sections (database:, connections:, ...)"))
        raise _config_error(source, root, problems)

    context = {
        "environ": os.environ if environ is None else environ,
        "base_dir": base_dir if base_dir is not None else Path.cwd(),
        "check_references": False,  # done below on the raw document, alongside the rest
    }
    settings: Settings | None = None
    try:
        settings = Settings.model_validate(data, context=context)
    except ValidationError as exc:
        problems.extend(_describe(error) for error in exc.errors(include_url=False))
    problems.extend(reference_problems(data))
    problems.extend(option_problems(data, _describe))
    if problems or settings is None:
        raise _config_error(source, root, problems)
    return settings


# --- YAML ------------------------------------------------------------------------------------


def _parse_yaml(text: str, source: str) -> tuple[yaml.Node | None, Any]:
    loader = yaml.SafeLoader(text)
    try:
        root = loader.get_single_node()
        data = loader.construct_document(root) if root is not None else None
    except yaml.MarkedYAMLError as exc:
        # Only the parser's own words and positions: str(exc) would quote the source line.
        mark = exc.problem_mark or exc.context_mark
        where = f"{source}:{mark.line + 1}:{mark.column + 1}" if mark else source
        what = exc.problem or exc.context or "syntax error"
        problem = f"{where}: invalid YAML: {what}"
        if exc.context and exc.problem and exc.context_mark:
            problem += f" ({exc.context} at line {exc.context_mark.line + 1})"
        raise ConfigError(problem, problems=[problem]) from None
    except yaml.YAMLError as exc:
        problem = f"{source}: invalid YAML: {type(exc).__name__}"
        raise ConfigError(problem, problems=[problem]) from None
    finally:
        loader.dispose()
    return root, data


def _duplicate_keys(node: yaml.Node | None, loc: Loc) -> list[tuple[Loc, str]]:
    """PyYAML keeps the last of two equal keys silently; that hides typos and merge accidents."""
    found: list[tuple[Loc, str]] = []
    if isinstance(node, yaml.MappingNode):
        seen: dict[str, int] = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, yaml.ScalarNode) or key_node.tag.endswith(":merge"):
                continue
            key = str(key_node.value)
            if key in seen:
                found.append(
                    (
                        (*loc, key),
                        f"duplicate key (first at line {seen[key]}); the later one would "
                        "silently win, so keep only one",
                    )
                )
            seen.setdefault(key, key_node.start_mark.line + 1)
            found.extend(_duplicate_keys(value_node, (*loc, key)))
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            found.extend(_duplicate_keys(item, (*loc, index)))
    return found


def _line_of(root: yaml.Node | None, loc: Loc) -> int | None:
    """The line of the deepest node on ``loc`` that exists (a missing key: its parent)."""
    node = root
    line = node.start_mark.line + 1 if node is not None else None
    for part in loc:
        child: yaml.Node | None = None
        if isinstance(node, yaml.MappingNode):
            for key_node, value_node in node.value:
                if isinstance(key_node, yaml.ScalarNode) and str(key_node.value) == str(part):
                    child = value_node
                    line = key_node.start_mark.line + 1
        elif (
            isinstance(node, yaml.SequenceNode)
            and isinstance(part, int)
            and 0 <= part < len(node.value)
        ):
            child = node.value[part]
            line = child.start_mark.line + 1
        if child is None:
            break
        node = child
    return line


# --- problems --------------------------------------------------------------------------------

_PLAIN_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]*$")


def format_loc(loc: Loc) -> str:
    """A location as users read it.

    ``("connections", "stripe", "webhook", "secrets", 0)`` becomes
    ``connections.stripe.webhook.secrets[0]``.
    """
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        elif _PLAIN_KEY.match(part):
            out += f".{part}" if out else part
        else:
            out += f"[{part!r}]"
    return out or "(top level)"


def _config_error(
    source: str, root: yaml.Node | None, problems: list[tuple[Loc, str]]
) -> ConfigError:
    located = [(_line_of(root, loc), loc, message) for loc, message in problems]
    located.sort(key=lambda item: (item[0] is None, item[0] or 0))
    lines = [
        f"{format_loc(loc)}: {message}" + (f" (line {line})" if line is not None else "")
        for line, loc, message in located
    ]
    count = f"{len(lines)} problem" + ("s" if len(lines) != 1 else "")
    message = f"{source}: {count} in the configuration:\n" + "\n".join(f"  - {p}" for p in lines)
    return ConfigError(message, problems=lines)


_SIMPLE: Final = {
    "int_type": "must be a whole number",
    "float_type": "must be a number",
    "bool_type": "must be true or false",
    "string_type": "must be a string",
    "dict_type": "must be a mapping (key: value pairs)",
    "model_type": "must be a mapping (key: value pairs)",
    "model_attributes_type": "must be a mapping (key: value pairs)",
    "list_type": "must be a list",
}


def _describe(error: ErrorDetails) -> tuple[Loc, str]:
    loc: Loc = tuple(error["loc"])
    kind = error["type"]
    ctx: dict[str, Any] = dict(error.get("ctx") or {})
    is_key = bool(loc) and loc[-1] == "[key]"
    if is_key:
        loc = loc[:-1]

    if kind == "extra_forbidden":
        return loc, _unknown_key(loc)
    if kind == "missing":
        return loc, "required key is missing" + _choices_hint(loc)
    if kind == "literal_error":
        return loc, _literal(loc, error.get("input"), str(ctx.get("expected", "")), is_key)
    if kind == "string_pattern_mismatch":
        what = "name" if is_key else "value"
        pattern = str(ctx.get("pattern"))
        rule = NAME_RULES.get(pattern, f"a value matching the pattern {pattern}")
        return loc, f"invalid {what}: use {rule}"
    if kind == LITERAL_ERROR:
        return loc, f"{error['msg']} (for example ${{{_suggest_env_name(loc)}}})"
    if kind in _SIMPLE:
        return loc, _SIMPLE[kind]
    if kind == "greater_than_equal":
        return loc, f"must be at least {_num(ctx.get('ge'))}"
    if kind == "greater_than":
        return loc, f"must be greater than {_num(ctx.get('gt'))}"
    if kind == "less_than_equal":
        return loc, f"must be at most {_num(ctx.get('le'))}"
    if kind in ("too_short", "too_long") and loc[-1:] == ("compare",):
        return loc, "must name exactly 2 connections (for example stripe and netsuite)"
    if kind == "too_short":
        return loc, f"must have at least {ctx.get('min_length')} item(s)"
    if kind == "too_long":
        return loc, f"must have at most {ctx.get('max_length')} item(s)"
    message = str(error["msg"])
    message = message.removeprefix("Value error, ").removeprefix("Assertion failed, ")
    return loc, re.sub(r"^(?:Input|String|List|Dictionary|Value) should ", "must ", message)


def _num(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _unknown_key(loc: Loc) -> str:
    allowed = _fields_at(loc[:-1])
    if not allowed:
        return "unknown key"
    close = difflib.get_close_matches(str(loc[-1]), allowed, n=1, cutoff=0.6)
    if close:
        return f"unknown key; did you mean {close[0]!r}?"
    return "unknown key; allowed here: " + ", ".join(allowed)


def _choices_hint(loc: Loc) -> str:
    if loc[-1:] == ("vendor",):
        return "; one of the installed vendors: " + ", ".join(installed_vendors())
    return ""


def _literal(loc: Loc, value: Any, expected: str, is_key: bool) -> str:
    choices = re.findall(r"'([^']*)'", expected)
    what = ("domain" if loc[:1] == ("ownership",) else "name") if is_key else "value"
    hint = ""
    # These fields are enumerations (vendor, domain, log level), never secrets: echoing is safe.
    if isinstance(value, str):
        close = difflib.get_close_matches(value, choices, n=1, cutoff=0.6)
        if close:
            hint = f"; did you mean {close[0]!r}?"
        return f"unknown {what} {value!r}{hint} (one of: {', '.join(choices)})"
    return f"must be one of: {', '.join(choices)}"


def _suggest_env_name(loc: Loc) -> str:
    parts = [str(p) for p in loc if isinstance(p, str)]
    if len(parts) >= 3 and parts[0] == "connections":
        if "credentials" in parts:
            parts = [parts[1], parts[-1]]
        elif "webhook" in parts:
            parts = [parts[1], "webhook_secret"]
    name = re.sub(r"[^A-Za-z0-9]+", "_", "_".join(parts)).strip("_").upper()
    return name or "SECRET_NAME"


def _unwrap(tp: Any) -> Any:
    while True:
        origin = get_origin(tp)
        if origin is Annotated:
            tp = get_args(tp)[0]
        elif origin in (Union, types.UnionType):
            args = [a for a in get_args(tp) if a is not type(None)]
            if len(args) != 1:
                return tp
            tp = args[0]
        else:
            return tp


def _fields_at(loc: Loc) -> list[str]:
    """Field names of the model that sits at ``loc`` (for "did you mean")."""
    tp: Any = Settings
    for part in loc:
        tp = _unwrap(tp)
        if isinstance(tp, type) and issubclass(tp, BaseModel):
            field = tp.model_fields.get(str(part))
            if field is None:
                return []
            tp = field.annotation
        elif get_origin(tp) is dict:
            tp = get_args(tp)[1]
        elif get_origin(tp) is list:
            tp = get_args(tp)[0]
        else:
            return []
    tp = _unwrap(tp)
    if isinstance(tp, type) and issubclass(tp, BaseModel):
        return list(tp.model_fields)
    return []
