"""A compiled mapping and how it maps one record (pure, apart from cross-reference lookups)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from syncwright.errors import BusinessRuleError
from syncwright.mapping._models import Direction, ErrorSpec, RequiredSpec, XrefSpec
from syncwright.mapping._paths import Path, Template, parse_template
from syncwright.mapping.transforms import Transform, TransformContext, TransformError

__all__ = ["CompiledEntity", "CompiledField", "CompiledMapping", "Resolver", "Step"]


class Resolver(Protocol):
    """Cross-reference lookups for ``xref:`` fields, on one connection."""

    def to_global(self, entity_type: str, native_id: str) -> str | None: ...

    def to_native(self, entity_type: str, global_id: str) -> str | None: ...


@dataclass(frozen=True)
class Step:
    """One transform call of a field."""

    name: str
    fn: Transform
    args: Mapping[str, Any]
    args_from: Mapping[str, Path]


@dataclass(frozen=True)
class CompiledField:
    target: tuple[Template, ...]
    paths: tuple[Path, ...] = ()
    const: Any = None
    steps: tuple[Step, ...] = ()
    value_map: tuple[str, Mapping[str, Any]] | None = None
    xref: XrefSpec | None = None
    each: str | None = None
    default: Any = None
    default_from: Path | None = None
    required: bool | RequiredSpec = False
    skip_null: bool = False
    when: tuple[tuple[Path, tuple[Any, ...]], ...] | None = None
    otherwise: CompiledField | None = None


@dataclass(frozen=True)
class CompiledEntity:
    name: str
    fields: tuple[CompiledField, ...]
    model: type[Any] | None = None
    label: Template | None = None
    delivery_when: tuple[tuple[Path, tuple[Any, ...]], ...] | None = None
    delivery_source: Path | Mapping[str, Path] | None = None


@dataclass
class _Run:
    """One ``apply``: what the fields of a record read besides the record."""

    mapping: CompiledMapping
    options: Mapping[str, Any]
    resolver: Resolver | None


def _matches(conditions: Sequence[tuple[Path, tuple[Any, ...]]], record: Any, scopes: Any) -> bool:
    return all(path.get(record, scopes) in allowed for path, allowed in conditions)


@dataclass(frozen=True)
class CompiledMapping:
    """A validated mapping file, ready to map records."""

    name: str
    version: int
    vendor: str
    direction: Direction
    source: str
    options: Mapping[str, Any]
    on_error: ErrorSpec
    entities: Mapping[str, CompiledEntity] = field(default_factory=dict)

    @property
    def ref(self) -> str:
        """``name@version``, as the ledger records it."""
        return f"{self.name}@{self.version}"

    def merged_options(self, options: Mapping[str, Any] | None) -> dict[str, Any]:
        """The file's ``options:`` defaults under the connection's own."""
        merged = dict(self.options)
        merged.update({k: v for k, v in (options or {}).items() if v is not None})
        return merged

    def apply(
        self,
        entity: str,
        record: Any,
        *,
        options: Mapping[str, Any] | None = None,
        resolver: Resolver | None = None,
        parent: Mapping[str, Any] | None = None,
        parent_label: str | None = None,
    ) -> dict[str, Any]:
        """The fields of ``entity`` for ``record``.

        Raises :class:`~syncwright.errors.BusinessRuleError` (``on_error``'s code, or a
        ``required`` field's own) when the record cannot be mapped; a connector's transform
        may raise its own business errors.
        """
        found = self.entities.get(entity)
        if found is None:
            raise KeyError(f"mapping {self.ref} has no entity {entity!r}")
        run = _Run(self, self.merged_options(options), resolver)
        return self._entity(run, found, record, parent, parent_label)

    def select(self, body: Any) -> tuple[str, Any] | None:
        """The entity whose ``delivery.when`` matches a delivery body, with its record."""
        for entity in self.entities.values():
            if entity.delivery_when is None:
                continue
            if _matches(entity.delivery_when, body, {}):
                return entity.name, _delivery_record(entity.delivery_source, body)
        return None

    # -- evaluation ---------------------------------------------------------------------------

    def _entity(
        self,
        run: _Run,
        entity: CompiledEntity,
        record: Any,
        parent: Mapping[str, Any] | None,
        parent_label: str | None,
    ) -> dict[str, Any]:
        result: dict[str, Any] = {}
        scopes: dict[str, Any] = {
            "$options": run.options,
            "$result": result,
            "$parent": parent or {},
            "$parent_label": parent_label,
        }
        label = self._label(entity, record, scopes)
        scopes["$label"] = label
        ctx = TransformContext(label, record, run.options, result, parent, parent_label)
        for spec in entity.fields:
            value = self._field(run, spec, record, scopes, ctx)
            if value is None and spec.skip_null:
                continue  # the target key is left out, not sent as null
            _put(result, [part.render(record, scopes) for part in spec.target], value)
        return result

    def _label(self, entity: CompiledEntity, record: Any, scopes: Mapping[str, Any]) -> str:
        if entity.label is None:
            return f"{self.vendor} {entity.name}"
        return entity.label.render(record, scopes)

    def _field(
        self,
        run: _Run,
        spec: CompiledField,
        record: Any,
        scopes: Mapping[str, Any],
        ctx: TransformContext,
    ) -> Any:
        if spec.when is not None and not _matches(spec.when, record, scopes):
            if spec.otherwise is None:
                return None
            return self._field(run, spec.otherwise, record, scopes, ctx)
        if spec.paths:
            value = None
            for path in spec.paths:
                value = self._pipeline(run, spec, path.get(record, scopes), record, scopes, ctx)
                if value is not None:
                    break
        else:
            value = self._pipeline(run, spec, spec.const, record, scopes, ctx)
        if value is None and spec.default_from is not None:
            value = spec.default_from.get(record, scopes)
        if value is None:
            value = spec.default
        if value is None and spec.required:
            raise self._missing(spec, record, scopes, ctx)
        return value

    def _pipeline(
        self,
        run: _Run,
        spec: CompiledField,
        value: Any,
        record: Any,
        scopes: Mapping[str, Any],
        ctx: TransformContext,
    ) -> Any:
        target = ".".join(part.text for part in spec.target)
        for step in spec.steps:
            args = dict(step.args)
            args.update({k: path.get(record, scopes) for k, path in step.args_from.items()})
            try:
                value = step.fn(value, ctx, **args)
            except TransformError as exc:
                raise self._error(f"{ctx.label}: {target}: {exc}") from exc
        if value is not None and spec.value_map is not None:
            name, table = spec.value_map
            key = str(value.value if hasattr(value, "value") else value)
            if key not in table and "*" not in table:
                raise self._error(
                    f"{ctx.label}: {target}: {key!r} has no entry in value map {name!r}"
                )
            value = table[key] if key in table else table["*"]
        if value is not None and spec.xref is not None and run.resolver is not None:
            if spec.xref.to == "global":
                value = run.resolver.to_global(spec.xref.entity, str(value))
            else:
                value = run.resolver.to_native(spec.xref.entity, str(value))
        if spec.each is not None and value is not None:
            # A list: each item is a record of that entity; a single record: mapped once.
            inner = self.entities[spec.each]
            parent = scopes["$result"]
            if isinstance(value, Mapping):
                return self._entity(run, inner, value, parent, ctx.label)
            items = value if isinstance(value, Sequence) and not isinstance(value, str) else []
            value = [self._entity(run, inner, item, parent, ctx.label) for item in items]
        return value

    def _missing(
        self, spec: CompiledField, record: Any, scopes: Mapping[str, Any], ctx: TransformContext
    ) -> BusinessRuleError:
        if isinstance(spec.required, RequiredSpec):
            required = spec.required
            message = parse_template(required.message).render(record, scopes)
            remediation = parse_template(required.remediation).render(record, scopes)
            return BusinessRuleError(message, code=required.code, remediation=remediation)
        source = spec.paths[0].text if spec.paths else ".".join(t.text for t in spec.target)
        return self._error(f"{ctx.label}: has no {source}")

    def _error(self, message: str) -> BusinessRuleError:
        return BusinessRuleError(
            message, code=self.on_error.code, remediation=self.on_error.remediation
        )


def _delivery_record(source: Path | Mapping[str, Path] | None, body: Any) -> Any:
    if source is None:
        return body
    if isinstance(source, Path):
        return source.get(body, {})
    return {key: path.get(body, {}) for key, path in source.items()}


def _put(out: dict[str, Any], parts: list[str], value: Any) -> None:
    for part in parts[:-1]:
        inner = out.get(part)
        if not isinstance(inner, dict):
            inner = out[part] = {}
        out = inner
    out[parts[-1]] = value
