"""CRM schema work: the properties onboard-sync needs (``setup``) and checking mappings against
the CRM's real properties (``validate --remote``)."""

from __future__ import annotations

from onboard_sync.connector import Connector, PropertySpec
from onboard_sync.errors import SchemaError
from onboard_sync.mappings import CANONICAL_FIELDS, MappingSet
from onboard_sync.mappings.fields import HEALTH_STATUSES, STATUS_OPTIONS
from onboard_sync.records import ObjectKind
from onboard_sync.rules import Playbook

_TYPE_COMPATIBLE = {
    "string": {"string", "enumeration", "phone_number"},
    "number": {"number", "string"},
    "date": {"date", "datetime", "string"},
    "enumeration": {"enumeration", "string"},
}


def _options(kind: str | None, playbook: Playbook) -> tuple[str, ...]:
    if kind == "phases":
        return tuple(playbook.phase_keys())
    if kind == "segments":
        return tuple(s.key for s in playbook.segments)
    if kind == "statuses":
        return STATUS_OPTIONS
    if kind == "health":
        return HEALTH_STATUSES
    return ()


def property_specs(mapping: MappingSet, playbook: Playbook) -> list[PropertySpec]:
    """One spec per mapped write field, typed from the canonical field table."""
    specs: list[PropertySpec] = []
    for kind, obj in mapping.objects.items():
        for canonical, fmap in obj.write.items():
            ftype = CANONICAL_FIELDS[canonical]
            specs.append(
                PropertySpec(
                    kind=kind,
                    name=fmap.property,
                    label=ftype.label,
                    type=ftype.type,
                    options=_options(ftype.options_from, playbook),
                    description=f"{ftype.description} Written by onboard-sync.",
                )
            )
    return specs


def check_remote(connector: Connector, mapping: MappingSet) -> list[SchemaError]:
    """Every mapped property must exist in the CRM with a compatible type. Errors name file:line."""
    problems: list[SchemaError] = []
    for kind, obj in mapping.objects.items():
        schema = connector.describe(kind)
        label = {ObjectKind.DEAL: "deal", ObjectKind.ACCOUNT: "account"}.get(kind, kind.value)
        for section, entries in (("write", obj.write), ("read", obj.read)):
            for fmap in entries.values():
                found = schema.get(fmap.property)
                if found is None:
                    hint = "run `onboard-sync setup` to create it" if section == "write" else "check the name"
                    problems.append(
                        SchemaError(
                            f"CRM property {fmap.property!r} does not exist on {connector.instance} {label} records; "
                            f"{hint}",
                            where=fmap.where,
                        )
                    )
                    continue
                if section == "write":
                    wanted = CANONICAL_FIELDS[fmap.canonical].type
                    if found.type not in _TYPE_COMPATIBLE.get(wanted, {wanted}):
                        problems.append(
                            SchemaError(
                                f"CRM property {fmap.property!r} has type {found.type!r}, "
                                f"but {fmap.canonical} needs {wanted!r}",
                                where=fmap.where,
                            )
                        )
                    if found.read_only:
                        problems.append(SchemaError(f"CRM property {fmap.property!r} is read-only", where=fmap.where))
    return problems
