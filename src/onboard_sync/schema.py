"""CRM schema work: the properties onboard-sync needs (``setup``), and one connector's mapping checked
against the CRM's real properties (the checks themselves live in ``onboard_sync.checks``)."""

from __future__ import annotations

from onboard_sync.checks.properties import check_properties, written_values
from onboard_sync.connector import Connector, PropertySpec
from onboard_sync.errors import SchemaError
from onboard_sync.mappings import CANONICAL_FIELDS, MappingSet
from onboard_sync.rules import Playbook


def property_specs(mapping: MappingSet, playbook: Playbook) -> list[PropertySpec]:
    """One spec per mapped write field, typed from the canonical field table. A line with
    ``allow_overwrite = true`` names a property that is not onboard-sync's: ``setup`` leaves it alone."""
    specs: list[PropertySpec] = []
    for kind, obj in mapping.objects.items():
        for canonical, fmap in obj.write.items():
            if fmap.allow_overwrite:
                continue
            ftype = CANONICAL_FIELDS[canonical]
            specs.append(
                PropertySpec(
                    kind=kind,
                    name=fmap.property,
                    label=ftype.label,
                    type=ftype.type,
                    options=(written_values(canonical, playbook) or ()) if ftype.type == "enumeration" else (),
                    description=f"{ftype.description} Written by onboard-sync.",
                )
            )
    return specs


def check_remote(connector: Connector, mapping: MappingSet, playbook: Playbook) -> list[SchemaError]:
    """Every mapped property of ``mapping`` against ``connector.describe()`` (see ``onboard_sync.checks``):
    it exists, can hold what is written and is onboard-sync's to write. Errors name file:line."""
    schemas = {kind: connector.describe(kind) for kind, obj in mapping.objects.items() if obj.write or obj.read}
    return check_properties(mapping, schemas, playbook, crm=connector.instance)
