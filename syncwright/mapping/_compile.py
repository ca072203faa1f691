"""Mapping files -> :class:`CompiledMapping`, every problem at once with file, line and reason.

YAML is read the way ``syncwright.yaml`` is (``config/_load.py``): duplicate keys are refused
and each problem names the line of the key it is about. A problem reads
``<file>:<line>: <key path>: <reason>``; all of a file's problems are raised together as one
:class:`~syncwright.errors.ConfigError`.
"""

from __future__ import annotations

import difflib
import inspect
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path as FilePath
from typing import Any, get_args, get_origin

import yaml
from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from syncwright import model as canonical
from syncwright.config._load import _duplicate_keys, _line_of, _parse_yaml, format_loc
from syncwright.errors import ConfigError
from syncwright.mapping._evaluate import CompiledEntity, CompiledField, CompiledMapping, Step
from syncwright.mapping._models import EntitySpec, ErrorSpec, FieldSpec, MappingFile
from syncwright.mapping._paths import Path, Template, parse_path, parse_template
from syncwright.mapping.transforms import find_transform, load_vendor_transforms, transform_names

__all__ = ["compile_mapping", "compile_text", "load_mapping"]

Loc = tuple[str | int, ...]
_MAX_BYTES = 1_000_000


def load_mapping(path: FilePath, *, version: int | None = None) -> CompiledMapping:
    """Read and compile a mapping file; ``version``, when given, must be the file's own."""
    where = str(path)
    try:
        size = path.stat().st_size
        if size > _MAX_BYTES:
            raise _error([f"{where}: is {size} bytes; a mapping file is at most {_MAX_BYTES}"])
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise _error([f"{where}: mapping file not found"]) from None
    except UnicodeDecodeError:
        raise _error([f"{where}: is not UTF-8 text"]) from None
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise _error([f"{where}: cannot read the mapping file: {reason}"]) from None
    return compile_text(text, source=where, version=version)


def compile_text(
    text: str, *, source: str = "<string>", version: int | None = None
) -> CompiledMapping:
    """Compile mapping YAML; ``source`` names it in problems."""
    root, data = _parse_yaml(text, source)
    problems: list[tuple[Loc, str]] = list(_duplicate_keys(root, ()))
    parsed: MappingFile | None = None
    if not isinstance(data, Mapping):
        problems.append(((), "must be a mapping with name, version, vendor, direction, entities"))
    else:
        try:
            parsed = MappingFile.model_validate(data)
        except ValidationError as exc:
            problems.extend(_describe(e) for e in exc.errors(include_url=False))
    compiled: CompiledMapping | None = None
    if parsed is not None:
        if version is not None and parsed.version != version:
            problems.append(
                (
                    ("version",),
                    f"the file is version {parsed.version} but the config asks for version "
                    f"{version}; change mappings[].version or the file",
                )
            )
        compiled, found = compile_mapping(parsed, source=source)
        problems.extend(found)
    if problems or compiled is None:
        raise _located(source, root, problems)
    return compiled


def compile_mapping(
    spec: MappingFile, *, source: str
) -> tuple[CompiledMapping | None, list[tuple[Loc, str]]]:
    """Check what pydantic cannot (paths, transforms, value maps, entities, model fields)."""
    problems: list[tuple[Loc, str]] = []
    entities: dict[str, CompiledEntity] = {}
    for name, entity in spec.entities.items():
        loc: Loc = ("entities", name)
        compiled = _Entity(spec, name, entity, loc, problems).compile()
        if compiled is not None:
            entities[name] = compiled
    if problems:
        return None, problems
    on_error = spec.on_error or ErrorSpec(
        code=f"{spec.vendor}.mapping_invalid",
        remediation=(
            f"Correct the record in the source system so that it can be mapped, or the mapping "
            f"{spec.name} (version {spec.version}); then retry this exception."
        ),
    )
    return (
        CompiledMapping(
            name=spec.name,
            version=spec.version,
            vendor=spec.vendor,
            direction=spec.direction,
            source=source,
            options=dict(spec.options),
            on_error=on_error,
            entities=entities,
        ),
        problems,
    )


@dataclass
class _Entity:
    """Compiles one entity, appending its problems."""

    spec: MappingFile
    name: str
    entity: EntitySpec
    loc: Loc
    problems: list[tuple[Loc, str]]

    def problem(self, loc: Loc, message: str) -> None:
        self.problems.append((loc, message))

    def compile(self) -> CompiledEntity | None:
        before = len(self.problems)
        model = self._model()
        label = self._template(self.entity.label, (*self.loc, "label"))
        fields = []
        for target, field in self.entity.fields.items():
            floc = (*self.loc, "fields", target)
            parts = self._target(target, floc)
            if model is not None and parts and parts[0].is_plain:
                known = list(model.model_fields)
                if parts[0].text not in known:
                    self.problem(floc, _unknown(parts[0].text, known, f"field of {model.__name__}"))
            fields.append(self._field(field, parts, floc))
        when, source = self._delivery()
        if len(self.problems) > before:
            return None
        return CompiledEntity(
            name=self.name,
            fields=tuple(f for f in fields if f is not None),
            model=model,
            label=label,
            delivery_when=when,
            delivery_source=source,
        )

    def _model(self) -> type[BaseModel] | None:
        name = self.entity.model
        if name is None:
            return None
        found = getattr(canonical, name, None)
        if isinstance(found, type) and issubclass(found, canonical.CanonicalModel):
            return found
        names = sorted(
            n
            for n in dir(canonical)
            if isinstance(getattr(canonical, n), type)
            and issubclass(getattr(canonical, n), canonical.Entity)
        )
        self.problem((*self.loc, "model"), _unknown(name, names, "canonical model"))
        return None

    def _path(self, text: str, loc: Loc) -> Path | None:
        try:
            return parse_path(text)
        except ValueError as exc:
            self.problem(loc, str(exc))
            return None

    def _template(self, text: str | None, loc: Loc) -> Template | None:
        if text is None:
            return None
        try:
            return parse_template(text)
        except ValueError as exc:
            self.problem(loc, str(exc))
            return None

    def _target(self, target: str, loc: Loc) -> tuple[Template, ...]:
        # Dots separate nested keys, except inside ``{...}`` placeholders.
        parts = re.findall(r"(?:[^.{}]|\{[^{}]*\})+", target)
        if not parts or ".".join(parts) != target:
            self.problem(loc, f"target {target!r} is not a dotted key like a.b.c")
            return ()
        templates = [self._template(part, loc) for part in parts]
        return tuple(t for t in templates if t is not None)

    def _conditions(
        self, when: Mapping[str, Any], loc: Loc
    ) -> tuple[tuple[Path, tuple[Any, ...]], ...]:
        out = []
        for text, allowed in when.items():
            path = self._path(text, (*loc, text))
            values = tuple(allowed) if isinstance(allowed, list) else (allowed,)
            if path is not None:
                out.append((path, values))
        return tuple(out)

    def _field(
        self, field: FieldSpec, target: tuple[Template, ...], loc: Loc
    ) -> CompiledField | None:
        paths = [self._path(p, (*loc, "from")) for p in field.paths]
        steps = []
        for index, call in enumerate(field.transforms):
            sloc: Loc = (*loc, "transform") + (
                (index,) if isinstance(field.transform, list) else ()
            )
            fn = find_transform(call.name)
            if fn is None:
                hint = _unknown(call.name, _known_transforms(self.spec.vendor), "transform")
                self.problem(sloc, hint)
                continue
            try:  # the arguments the file gives must be the ones the function takes
                inspect.signature(fn).bind(
                    None, None, **dict.fromkeys([*call.args, *call.args_from])
                )
            except TypeError as exc:
                self.problem(sloc, f"transform {call.name!r}: {exc}")
                continue
            args_from = {
                k: self._path(v, (*sloc, "args_from", k)) for k, v in call.args_from.items()
            }
            steps.append(
                Step(call.name, fn, dict(call.args), {k: p for k, p in args_from.items() if p})
            )
        value_map = None
        if field.map is not None:
            table = self.spec.value_maps.get(field.map)
            if table is None:
                self.problem(
                    (*loc, "map"), _unknown(field.map, list(self.spec.value_maps), "value map")
                )
            else:
                value_map = (field.map, table)
        if field.each is not None and field.each not in self.spec.entities:
            self.problem((*loc, "each"), _unknown(field.each, list(self.spec.entities), "entity"))
        if field.each == self.name:
            self.problem((*loc, "each"), "an entity cannot contain itself")
        if isinstance(field.required, BaseModel):
            self._template(field.required.message, (*loc, "required", "message"))
            self._template(field.required.remediation, (*loc, "required", "remediation"))
        otherwise = None
        if field.otherwise is not None:
            otherwise = self._field(field.otherwise, target, (*loc, "otherwise"))
        return CompiledField(
            target=target,
            paths=tuple(p for p in paths if p is not None),
            const=field.const,
            steps=tuple(steps),
            value_map=value_map,
            xref=field.xref,
            each=field.each,
            default=field.default,
            default_from=(
                self._path(field.default_from, (*loc, "default_from"))
                if field.default_from is not None
                else None
            ),
            required=field.required,
            skip_null=field.skip_null,
            when=self._conditions(field.when, (*loc, "when")) if field.when is not None else None,
            otherwise=otherwise,
        )

    def _delivery(
        self,
    ) -> tuple[tuple[tuple[Path, tuple[Any, ...]], ...] | None, Path | dict[str, Path] | None]:
        delivery = self.entity.delivery
        if delivery is None:
            return None, None
        loc = (*self.loc, "delivery")
        when = self._conditions(delivery.when, (*loc, "when"))
        if isinstance(delivery.source, str):
            return when, self._path(delivery.source, (*loc, "source"))
        paths = {k: self._path(v, (*loc, "source", k)) for k, v in delivery.source.items()}
        return when, {k: p for k, p in paths.items() if p is not None}


def _known_transforms(vendor: str) -> list[str]:
    load_vendor_transforms(vendor)
    return transform_names()


def _unknown(value: str, known: list[str], what: str) -> str:
    close = difflib.get_close_matches(value, known, n=1, cutoff=0.6)
    if close:
        return f"unknown {what} {value!r}; did you mean {close[0]!r}?"
    listed = ", ".join(known) if known else "(none defined)"
    return f"unknown {what} {value!r}; known: {listed}"


def _describe(error: ErrorDetails) -> tuple[Loc, str]:
    """A pydantic error as (location in the file, reason)."""
    loc: Loc = tuple(p for p in error["loc"] if not (isinstance(p, str) and _UNION_TAG.match(p)))
    kind = error["type"]
    if kind == "extra_forbidden":
        allowed = _allowed_at(loc[:-1])
        close = difflib.get_close_matches(str(loc[-1]), allowed, n=1, cutoff=0.6)
        if close:
            return loc, f"unknown key; did you mean {close[0]!r}?"
        return loc, "unknown key; allowed here: " + ", ".join(allowed)
    if kind == "missing":
        return loc, "required key is missing"
    message = str(error["msg"]).removeprefix("Value error, ")
    message = re.sub(r"^(?:Input|String|List|Dictionary|Value) should ", "must ", message)
    return loc, message


# pydantic puts the union branch it tried (``str``, ``list[...]``, ``TransformCall``) into an
# error's location; a file has no such key.
_UNION_TAG = re.compile(
    r"^(?:str|bool|int|list\[.*|dict\[.*|function-.*|[A-Z][A-Za-z]*(?:Spec|Call))$"
)


def _spec_in(annotation: Any) -> tuple[type[BaseModel] | None, bool]:
    """The spec model inside a field's type, and whether it sits in a dict or list."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation, False
    container = get_origin(annotation) in (dict, list)
    for arg in get_args(annotation):
        found, inner = _spec_in(arg)
        if found is not None:
            return found, container or inner
    return None, False


def _allowed_at(loc: Loc) -> list[str]:
    """The keys a mapping file may have at ``loc`` (for "unknown key" hints)."""
    model: type[BaseModel] = MappingFile
    skip_key = False
    for part in loc:
        if skip_key:  # an entity or field name, or a list index
            skip_key = False
            continue
        field = next((f for n, f in model.model_fields.items() if part in (n, f.alias)), None)
        found, skip_key = _spec_in(field.annotation) if field is not None else (None, False)
        if found is None:
            return []
        model = found
    return [f.alias or name for name, f in model.model_fields.items()]


def _error(problems: list[str]) -> ConfigError:
    return ConfigError(
        problems[0] if len(problems) == 1 else "\n".join(problems), problems=problems
    )


def _located(source: str, root: yaml.Node | None, problems: list[tuple[Loc, str]]) -> ConfigError:
    located = sorted(
        ((_line_of(root, loc), loc, message) for loc, message in problems),
        key=lambda item: (item[0] is None, item[0] or 0),
    )
    lines = [
        f"{source}" + (f":{line}" if line is not None else "") + f": {format_loc(loc)}: {message}"
        for line, loc, message in located
    ]
    count = f"{len(lines)} problem" + ("s" if len(lines) != 1 else "")
    message = f"{source}: {count} in the mapping file:\n" + "\n".join(f"  - {p}" for p in lines)
    return ConfigError(message, problems=lines)
