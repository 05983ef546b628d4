"""Field mappings: which CRM property holds each canonical field, per object kind.

A ``MappingSet`` belongs to one connector instance. ``write`` entries say where onboard-sync
writes its canonical fields (``phase`` → ``onboarding_phase``); ``read`` entries say which
CRM properties to read into canonical names the playbook's health rules use (``nps`` ←
``nps_score``), optionally through a named transform.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, TypeVar

from onboard_sync.connector import ReadOptions
from onboard_sync.records import Account, Contact, Deal, ObjectKind

RecordT = TypeVar("RecordT", Deal, Account, Contact)


@dataclass(frozen=True, slots=True)
class FieldMap:
    """One mapped field: canonical name, CRM property, optional transform, and where it was written."""

    canonical: str
    property: str
    transform: str | None = None
    where: str = ""
    allow_overwrite: bool = False
    """A write line may name a property onboard-sync does not own (``dealname``, a Salesforce standard
    field) only with ``allow_overwrite = true``: every sync overwrites what people put there."""


@dataclass(frozen=True)
class ObjectMapping:
    """The write and read mappings of one object kind."""

    write: Mapping[str, FieldMap] = field(default_factory=dict)
    read: Mapping[str, FieldMap] = field(default_factory=dict)


@dataclass(frozen=True)
class MappingSet:
    """All mappings of one connector instance."""

    instance: str
    source_path: str
    objects: Mapping[ObjectKind, ObjectMapping]
    transforms: Mapping[str, Callable[[Any], Any]] = field(default_factory=dict, repr=False)

    def for_kind(self, kind: ObjectKind) -> ObjectMapping:
        return self.objects.get(kind, ObjectMapping())

    def read_options(self, owner_properties: Sequence[str] = ()) -> ReadOptions:
        """Every CRM property the engine must read: mapped reads plus written fields (to compare), and the
        deal and account properties ``[owners]`` takes owner ids from (``property:NAME``)."""
        kinds = list(self.objects) + ([ObjectKind.DEAL, ObjectKind.ACCOUNT] if owner_properties else [])
        props: dict[ObjectKind, tuple[str, ...]] = {}
        for kind in dict.fromkeys(kinds):
            mapping = self.for_kind(kind)
            names = [m.property for m in mapping.write.values()] + [m.property for m in mapping.read.values()]
            if kind in (ObjectKind.DEAL, ObjectKind.ACCOUNT):
                names += owner_properties
            props[kind] = tuple(dict.fromkeys(names))
        return ReadOptions(properties=props)

    def to_crm(self, kind: ObjectKind, values: Mapping[str, str | None]) -> dict[str, str | None]:
        """Canonical field values → CRM property values, for the fields this mapping writes."""
        out: dict[str, str | None] = {}
        for canonical, fmap in self.for_kind(kind).write.items():
            if canonical in values:
                value = values[canonical]
                if fmap.transform:
                    value = self.transforms[fmap.transform](value)
                out[fmap.property] = None if value is None else str(value)
        return out

    def phase_property(self) -> str | None:
        """The deal property holding the onboarding phase (a person may set it by hand)."""
        fmap = self.for_kind(ObjectKind.DEAL).write.get("phase")
        return fmap.property if fmap else None

    def normalise(self, kind: ObjectKind, record: RecordT) -> RecordT:
        """Add canonical names to a record's properties from the read mappings (raw names stay)."""
        reads = self.for_kind(kind).read
        if not reads:
            return record
        props = dict(record.properties)
        for canonical, fmap in reads.items():
            raw = record.properties.get(fmap.property)
            value = self.transforms[fmap.transform](raw) if fmap.transform and raw not in (None, "") else raw
            # record properties are strings (as CRMs send them): a transform normalises, it does not retype
            props[canonical] = None if value is None else str(value)
        return replace(record, properties=props)
