"""The shape of a mapping file (pydantic): what each key means is in ``docs/mappings.md``."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from syncwright.config._models import Name

__all__ = [
    "DeliverySpec",
    "Direction",
    "EntitySpec",
    "ErrorSpec",
    "FieldSpec",
    "MappingFile",
    "RequiredSpec",
    "TransformCall",
    "XrefSpec",
]

Direction = Literal["inbound", "outbound"]
Word = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]*$")]
TransformName = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)?$")]


class _Spec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class ErrorSpec(_Spec):
    """The error raised when a record cannot be mapped (``required`` fields, value maps)."""

    code: Annotated[str, StringConstraints(min_length=1)]
    remediation: Annotated[str, StringConstraints(min_length=1)]


class RequiredSpec(ErrorSpec):
    """A required field with its own error; ``message`` is a template over the record."""

    message: Annotated[str, StringConstraints(min_length=1)]


class XrefSpec(_Spec):
    """Cross-reference lookup: ``entity`` type; ``to: global`` turns a native id of this
    connection into its global id (minted on first sight), ``to: native`` the reverse."""

    entity: Word
    to: Literal["global", "native"]


class TransformCall(_Spec):
    """A named transform with literal ``args`` and ``args_from`` (argument -> path)."""

    name: TransformName
    args: dict[str, Any] = Field(default_factory=dict)
    args_from: dict[str, str] = Field(default_factory=dict)


class FieldSpec(_Spec):
    """How one target field gets its value (see docs/mappings.md, "Fields")."""

    from_: str | list[str] | None = Field(default=None, alias="from")
    const: Any = None
    transform: TransformName | TransformCall | list[TransformName | TransformCall] = Field(
        default_factory=list
    )
    map: Word | None = None
    xref: XrefSpec | None = None
    each: Word | None = None
    default: Any = None
    default_from: str | None = None
    required: bool | RequiredSpec = False
    skip_null: bool = False
    when: dict[str, Any] | None = None
    otherwise: FieldSpec | None = None

    @model_validator(mode="before")
    @classmethod
    def _shorthand(cls, data: Any) -> Any:
        # ``name: Name`` is short for ``name: {from: Name}``.
        return {"from": data} if isinstance(data, str) else data

    @model_validator(mode="after")
    def _one_source(self) -> FieldSpec:
        sources = [k for k in ("from_", "const") if k in self.model_fields_set]
        if len(sources) > 1:
            raise ValueError("give either 'from' or 'const', not both")
        if not sources and not {"default", "default_from"} & self.model_fields_set:
            raise ValueError("needs 'from', 'const', 'default' or 'default_from'")
        if self.each is not None and "from_" not in self.model_fields_set:
            raise ValueError("'each' needs 'from' (the path of the list)")
        if self.otherwise is not None and self.when is None:
            raise ValueError("'otherwise' only makes sense with 'when'")
        return self

    @property
    def transforms(self) -> list[TransformCall]:
        items = self.transform if isinstance(self.transform, list) else [self.transform]
        return [TransformCall(name=t) if isinstance(t, str) else t for t in items]

    @property
    def paths(self) -> list[str]:
        if self.from_ is None:
            return []
        return [self.from_] if isinstance(self.from_, str) else list(self.from_)


class DeliverySpec(_Spec):
    """Which stored deliveries this entity maps (``when``: path -> value or list of values)
    and where its record sits in the delivery body (``source``: a path, or key -> path)."""

    when: dict[str, Any] = Field(default_factory=dict)
    source: str | dict[str, str] = "$"


class EntitySpec(_Spec):
    """One record shape: its target ``fields`` in order, the canonical ``model`` it builds
    (inbound: its field names are checked), a ``label`` template naming the record in errors."""

    model: str | None = None
    label: str | None = None
    delivery: DeliverySpec | None = None
    fields: Annotated[dict[str, FieldSpec], Field(min_length=1)]


class MappingFile(_Spec):
    """A whole mapping file."""

    name: Name
    version: int = Field(ge=1, strict=True)
    vendor: Word
    direction: Direction
    description: str | None = None
    options: dict[str, Any] = Field(default_factory=dict)
    value_maps: dict[Word, dict[str, Any]] = Field(default_factory=dict)
    on_error: ErrorSpec | None = None
    entities: Annotated[dict[Word, EntitySpec], Field(min_length=1)]
