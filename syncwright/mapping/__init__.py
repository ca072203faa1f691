"""Declarative, versioned mappings: vendor records <-> canonical records, as YAML files.

>>> mapping = load_mapping(Path("stripe_inbound.yaml"), version=3)   # doctest: +SKIP
>>> mapping.ref                                                       # doctest: +SKIP
'stripe_inbound@3'
>>> mapping.apply("customer", payload, options={}, resolver=None)     # doctest: +SKIP

A file declares, per entity, target fields from dotted source paths, value maps,
cross-reference lookups, defaults, constants and named Python transforms
(:mod:`syncwright.mapping.transforms`). The compiler reports every problem with file, line and
reason. Each connector ships its files (``syncwright/connectors/<vendor>/mappings/``);
``mappings:`` in ``syncwright.yaml`` replaces one with the user's file at a given version.
Reference: ``docs/mappings.md``.
"""

from syncwright.mapping._compile import compile_text, load_mapping
from syncwright.mapping._evaluate import CompiledMapping, Resolver
from syncwright.mapping._models import Direction, MappingFile
from syncwright.mapping._resolvers import DryRunResolver, XrefResolver
from syncwright.mapping._select import (
    MappingSet,
    load_mapping_set,
    mapping_override,
    or_shipped,
    shipped_mapping,
    using_mapping,
)
from syncwright.mapping.diff import FieldChange, RecordDiff, diff_deliveries, diff_records

__all__ = [
    "CompiledMapping",
    "Direction",
    "DryRunResolver",
    "FieldChange",
    "MappingFile",
    "MappingSet",
    "RecordDiff",
    "Resolver",
    "XrefResolver",
    "compile_text",
    "diff_deliveries",
    "diff_records",
    "load_mapping",
    "load_mapping_set",
    "mapping_override",
    "or_shipped",
    "shipped_mapping",
    "using_mapping",
]
