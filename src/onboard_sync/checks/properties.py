"""Mapped CRM properties against the CRM's schema: each exists, can hold what onboard-sync writes into
it, and is onboard-sync's to write.

Pure: given a mapping, the playbook and the connector's ``describe()`` per object kind, it returns one
``SchemaError`` per bad mapping line, naming the mapping file and line. Called by :mod:`.remote`
(``validate --remote`` and the check at the start of every ``sync`` and ``plan``).

A property is onboard-sync's when the CRM does not define it itself (``PropertySchema.built_in``) and
``setup`` created it (``created_by_setup``) or it carries the label ``setup`` gives that field. Any
other property (``dealname``, ``amount``, Salesforce ``StageName``, a custom property of the
customer's) is written only when its mapping line says ``allow_overwrite = true``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from onboard_sync.connector import PropertySchema
from onboard_sync.errors import SchemaError
from onboard_sync.mappings import CANONICAL_FIELDS, FieldMap, MappingSet
from onboard_sync.mappings.fields import HEALTH_STATUSES, STATUS_OPTIONS
from onboard_sync.records import ObjectKind
from onboard_sync.rules import Playbook
from onboard_sync.tomlfile import toml_value

PLAIN_TYPES_HOLDING: Mapping[str, frozenset[str]] = {
    "number": frozenset({"number", "string"}),
    "date": frozenset({"date", "datetime", "string"}),
    "enumeration": frozenset({"string"}),
    "string": frozenset({"string"}),
}
"""Property types (other than enumerations) that hold each kind of value written: text holds any value,
a number property only numbers, a date property only dates. An enumeration property holds a field only
when every value the field can take is among its options (:func:`_enumeration_problem`)."""

KIND_NAMES = {ObjectKind.DEAL: "deal", ObjectKind.ACCOUNT: "account"}


def written_values(canonical: str, playbook: Playbook) -> tuple[str, ...] | None:
    """Every value onboard-sync may write into ``canonical`` when they are few and known (phases,
    statuses, segments, health statuses, phase labels); ``None`` for numbers, dates and free text."""
    source = CANONICAL_FIELDS[canonical].options_from
    if source == "phases":
        return tuple(playbook.phase_keys())
    if source == "segments":
        return tuple(s.key for s in playbook.segments)
    if source == "statuses":
        return STATUS_OPTIONS
    if source == "health":
        return HEALTH_STATUSES
    if canonical == "phase_label":
        return tuple(p.label for p in playbook.phases)
    return None


def describe_value(canonical: str, playbook: Playbook) -> str:
    """What ``canonical`` holds, for messages: ``a number``, ``a date``, ``free text``, ``one of: …``."""
    values = written_values(canonical, playbook)
    if values is not None:
        return f"one of: {', '.join(values)}"
    return {"number": "a number", "date": "a date"}.get(CANONICAL_FIELDS[canonical].type, "free text")


def is_onboard_syncs(found: PropertySchema, canonical: str) -> bool:
    """Whether onboard-sync owns ``found`` (see the module docstring)."""
    if found.built_in:
        return False
    label = CANONICAL_FIELDS[canonical].label.strip().lower()
    return found.created_by_setup or found.label.strip().lower() in {label, label[:40]}


def check_properties(
    mapping: MappingSet,
    schemas: Mapping[ObjectKind, Mapping[str, PropertySchema]],
    playbook: Playbook,
    *,
    crm: str,
) -> list[SchemaError]:
    """One problem per mapping line whose property is missing, read-only, cannot hold the values written,
    or is not onboard-sync's without ``allow_overwrite``; kinds missing from ``schemas`` are not checked."""
    problems: list[SchemaError] = []
    for kind, obj in mapping.objects.items():
        schema = schemas.get(kind)
        if schema is None:
            continue
        where = f"{crm} {KIND_NAMES.get(kind, kind.value)} records"
        for fmap in obj.write.values():
            problem = _write_problem(fmap, schema.get(fmap.property), where, playbook, mapping.transforms)
            if problem:
                problems.append(SchemaError(problem, where=fmap.where))
        for fmap in obj.read.values():
            if fmap.property not in schema:
                message = f"CRM property {fmap.property!r} does not exist on {where}; check the name"
                problems.append(SchemaError(message, where=fmap.where))
    return problems


def _write_problem(
    fmap: FieldMap,
    found: PropertySchema | None,
    where: str,
    playbook: Playbook,
    transforms: Mapping[str, Callable[[Any], Any]],
) -> str | None:
    name = repr(fmap.property)
    if found is None:
        # setup creates the properties mapped, except those of allow_overwrite lines (not onboard-sync's)
        fix = "check the name" if fmap.allow_overwrite else "run `onboard-sync setup` to create it"
        return f"CRM property {name} does not exist on {where}; {fix}"
    if found.read_only:
        return f"CRM property {name} is read-only on {where}; map {fmap.canonical} to a property onboard-sync can write"
    if found.type == "enumeration":
        problem = _enumeration_problem(fmap, found, playbook, transforms)
        if problem:
            return problem
    elif found.type not in PLAIN_TYPES_HOLDING[CANONICAL_FIELDS[fmap.canonical].type]:
        what = describe_value(fmap.canonical, playbook)
        return f"CRM property {name} has type {found.type!r}, which cannot hold {fmap.canonical} ({what})"
    if not fmap.allow_overwrite and not is_onboard_syncs(found, fmap.canonical):
        origin = "built into the CRM" if found.built_in else "not created by `onboard-sync setup`"
        return (
            f"CRM property {name} ({found.label}) is not onboard-sync's ({origin}): syncs would overwrite it with "
            f"{fmap.canonical}; map a property setup creates, or write {fmap.canonical} = "
            f"{{ property = {toml_value(fmap.property)}, allow_overwrite = true }} if that is intended"
        )
    return None


def _enumeration_problem(
    fmap: FieldMap, found: PropertySchema, playbook: Playbook, transforms: Mapping[str, Callable[[Any], Any]]
) -> str | None:
    values = written_values(fmap.canonical, playbook)
    name = repr(fmap.property)
    if values is None:
        what = describe_value(fmap.canonical, playbook)
        return f"CRM property {name} is an enumeration, which cannot hold {fmap.canonical} ({what})"
    if fmap.transform:
        try:
            values = tuple(str(transforms[fmap.transform](v)) for v in values)
        except Exception:  # a plugin's transform may refuse a value: then there are no options to compare
            return None
    missing = [v for v in values if v not in found.options]
    if missing:
        return (
            f"CRM property {name} is an enumeration without the option(s) {', '.join(missing)} "
            f"that {fmap.canonical} takes; add them to the property in the CRM"
        )
    return None
