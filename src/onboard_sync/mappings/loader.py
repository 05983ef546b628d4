"""Load and validate mapping files (``mappings/<instance>.toml``); errors name file:line.

File format::

    [deal.write]                      # canonical field = "crm_property"
    phase = "onboarding_phase"
    health_score = { property = "onboarding_health_score" }
    next_step = { property = "next_step", allow_overwrite = true }   # a property setup did not create

    [account.read]                    # canonical name = property (+ transform)
    nps = { property = "nps_score", transform = "float" }

Object kinds: ``deal``, ``account``. Write fields must be canonical onboarding fields
(``mappings.fields.CANONICAL_FIELDS``); transforms must be registered (core ones or a
plugin's ``register_transforms``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from onboard_sync.errors import ConfigError
from onboard_sync.keys import did_you_mean
from onboard_sync.mappings.fields import CANONICAL_FIELDS
from onboard_sync.mappings.model import FieldMap, MappingSet, ObjectMapping
from onboard_sync.records import ObjectKind
from onboard_sync.tomlfile import TomlDocument, read_toml

KIND_NAMES = {"deal": ObjectKind.DEAL, "account": ObjectKind.ACCOUNT}
_READ_NAME_OK = set("abcdefghijklmnopqrstuvwxyz0123456789_")


def default_mapping_text(connector_type: str) -> str | None:
    """The default mapping of a connector type: its plugin's ``Connector.default_mapping()`` (the
    built-in connectors ship theirs the same way), or None for a type that ships none or is unknown."""
    from onboard_sync.plugins import connector_types  # plugins import the mapping types: not at module level

    found = connector_types().get(connector_type)
    return found.cls.default_mapping() if found is not None else None


def mapping_path(mappings_dir: Path, instance: str, connector_type: str) -> Path | None:
    """``<instance>.toml`` if present, else ``<type>.toml``, else None."""
    for name in (instance, connector_type):
        candidate = mappings_dir / f"{name}.toml"
        if candidate.exists():
            return candidate
    return None


def _field_map(doc: TomlDocument, path: tuple[str, ...], canonical: str, value: Any, transforms: set[str]) -> FieldMap:
    where = doc.where(path)
    writes = path[1] == "write"
    allowed = ("property", "transform", "allow_overwrite") if writes else ("property", "transform")
    allow_overwrite: object = False
    if isinstance(value, str):
        prop, transform = value, None
    elif isinstance(value, dict):
        unknown = sorted(set(value) - set(allowed))
        if unknown:
            hint = " (allow_overwrite only applies to [*.write] lines)" if unknown[0] == "allow_overwrite" else ""
            raise doc.error((*path, unknown[0]), f"unknown key {unknown[0]!r} (allowed: {', '.join(allowed)}){hint}")
        prop, transform = value.get("property"), value.get("transform")
        allow_overwrite = value.get("allow_overwrite", False)
        if not isinstance(prop, str):
            raise doc.error(path, "missing 'property' (the CRM property name)")
        if not isinstance(allow_overwrite, bool):
            raise doc.error((*path, "allow_overwrite"), f"expected true or false, got {allow_overwrite!r}")
    else:
        raise doc.error(path, "expected a CRM property name or { property = ..., transform = ... }")
    if not prop.strip():
        raise doc.error(path, "empty CRM property name")
    if transform is not None and transform not in transforms:
        raise doc.error(path, f"unknown transform {transform!r} (known: {', '.join(sorted(transforms))})")
    return FieldMap(
        canonical=canonical, property=prop, transform=transform, where=where, allow_overwrite=allow_overwrite
    )


def parse_mapping(doc: TomlDocument, instance: str, transforms: dict[str, Any]) -> MappingSet:
    """Validate a parsed mapping document."""
    objects: dict[ObjectKind, ObjectMapping] = {}
    names = set(transforms)
    for kind_name, sections in doc.data.items():
        if kind_name not in KIND_NAMES:
            hint = did_you_mean(kind_name, KIND_NAMES)
            raise doc.error((kind_name,), f"unknown object {kind_name!r}{hint} (known: {', '.join(KIND_NAMES)})")
        if not isinstance(sections, dict):
            raise doc.error((kind_name,), "expected a table with 'write' and/or 'read'")
        write: dict[str, FieldMap] = {}
        read: dict[str, FieldMap] = {}
        for section, entries in sections.items():
            if section not in ("write", "read") or not isinstance(entries, dict):
                raise doc.error(
                    (kind_name, section),
                    f"unknown section {section!r}{did_you_mean(section, ('write', 'read'))} "
                    f"(use [{kind_name}.write] or [{kind_name}.read])",
                )
            for canonical, value in entries.items():
                path = (kind_name, section, canonical)
                if section == "write" and canonical not in CANONICAL_FIELDS:
                    raise doc.error(
                        path,
                        f"unknown onboarding field {canonical!r}{did_you_mean(canonical, CANONICAL_FIELDS)} "
                        f"(known: {', '.join(CANONICAL_FIELDS)})",
                    )
                if section == "read" and not set(canonical) <= _READ_NAME_OK:
                    raise doc.error(path, f"read names must be lower_snake_case, got {canonical!r}")
                target = write if section == "write" else read
                target[canonical] = _field_map(doc, path, canonical, value, names)
        seen: dict[str, str] = {}
        for fmap in write.values():
            if fmap.property in seen:
                raise ConfigError(
                    f"CRM property {fmap.property!r} is mapped twice ({seen[fmap.property]} and {fmap.canonical})",
                    where=fmap.where,
                )
            seen[fmap.property] = fmap.canonical
        objects[KIND_NAMES[kind_name]] = ObjectMapping(write=write, read=read)
    return MappingSet(instance=instance, source_path=doc.display_path, objects=objects, transforms=transforms)


def load_mapping(mappings_dir: Path, instance: str, connector_type: str, transforms: dict[str, Any]) -> MappingSet:
    """The mapping of one connector instance: its file, or the shipped default for its type."""
    path = mapping_path(mappings_dir, instance, connector_type)
    if path is not None:
        return parse_mapping(read_toml(path), instance, transforms)
    text = default_mapping_text(connector_type)
    if text is None:
        raise ConfigError(
            f"no mapping for connector {instance!r}: create {instance}.toml or {connector_type}.toml",
            where=str(mappings_dir),
        )
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        shipped = Path(tmp) / f"{connector_type}.toml"
        shipped.write_text(text, encoding="utf-8")
        doc = read_toml(shipped, display_path=f"<default {connector_type} mapping>")
    return parse_mapping(doc, instance, transforms)
