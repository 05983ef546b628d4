"""HubSpot properties: what the connector itself needs, and the PropertySpec ⇄ HubSpot translation.

Used by the connector's ``describe`` and ``ensure_properties`` (``onboard-sync setup``).
:func:`required_properties` lists the task key property (unique value, so a task can be
read by key and a second create with the same key is refused by HubSpot itself).
"""

from __future__ import annotations

from typing import Any

from onboard_sync.connector import PropertySchema, PropertySpec
from onboard_sync.records import ObjectKind

OBJECT_TYPES = {
    ObjectKind.DEAL: "deals",
    ObjectKind.ACCOUNT: "companies",
    ObjectKind.CONTACT: "contacts",
    ObjectKind.TASK: "tasks",
    ObjectKind.TICKET: "tickets",
}
"""HubSpot object type (API path segment) of each canonical kind."""

FIELD_TYPES = {
    "string": "text",
    "number": "number",
    "date": "date",
    "datetime": "date",
    "enumeration": "select",
    "bool": "booleancheckbox",
}
"""The HubSpot ``fieldType`` (form control) used for each property ``type`` onboard-sync creates."""

TYPES = {"phone_number": "string"}
"""HubSpot property types that onboard-sync treats as another (the rest map to themselves)."""


def object_type(kind: ObjectKind) -> str:
    """The HubSpot object type for ``kind``."""
    return OBJECT_TYPES[kind]


def required_properties(task_key_property: str = "onboard_sync_key") -> tuple[PropertySpec, ...]:
    """The properties the HubSpot connector needs; ``onboard-sync setup`` creates them."""
    return (
        PropertySpec(
            kind=ObjectKind.TASK,
            name=task_key_property,
            label="onboard-sync key",
            type="string",
            unique=True,
            description="Idempotency key of a task created by onboard-sync. Do not edit.",
        ),
    )


def create_body(spec: PropertySpec, group: str) -> dict[str, Any]:
    """The ``PropertyCreate`` body for ``spec`` in property group ``group``."""
    body: dict[str, Any] = {
        "name": spec.name,
        "label": spec.label,
        "type": spec.type,
        "fieldType": FIELD_TYPES[spec.type],
        "groupName": group,
        "description": spec.description,
        "hasUniqueValue": spec.unique,
    }
    options = spec.options
    if spec.type == "bool" and not options:
        body["options"] = [
            {"label": "Yes", "value": "true", "displayOrder": 0, "hidden": False},
            {"label": "No", "value": "false", "displayOrder": 1, "hidden": False},
        ]
    elif options:
        body["options"] = [
            {"label": value, "value": value, "displayOrder": i, "hidden": False} for i, value in enumerate(options)
        ]
    return body


def to_schema(prop: Any, group: str | None = None) -> PropertySchema:
    """A HubSpot ``Property`` as a ``PropertySchema``; with ``group`` (the connector's property group,
    where ``setup`` creates every property) a custom property in it counts as created by setup."""
    metadata = getattr(prop, "modification_metadata", None)
    read_only = bool(getattr(metadata, "read_only_value", False) or getattr(prop, "calculated", False))
    built_in = bool(getattr(prop, "hubspot_defined", False))
    return PropertySchema(
        name=prop.name,
        label=prop.label or prop.name,
        type=TYPES.get(prop.type, prop.type or "string"),
        options=tuple(o.value for o in prop.options or () if not getattr(o, "hidden", False)),
        unique=bool(prop.has_unique_value),
        read_only=read_only,
        built_in=built_in,
        created_by_setup=not built_in and group is not None and getattr(prop, "group_name", None) == group,
    )


def mismatch(spec: PropertySpec, found: PropertySchema) -> str | None:
    """Why an existing property does not fit ``spec`` (an admin must fix it), or None."""
    if found.type != spec.type and {found.type, spec.type} != {"date", "datetime"}:
        return f"has type {found.type}, onboard-sync needs {spec.type}"
    if spec.unique and not found.unique:
        return "must have unique values (hasUniqueValue), which cannot be changed: delete and re-create it"
    missing = [o for o in spec.options if o not in found.options]
    if missing:
        return f"lacks the options {', '.join(missing)}"
    return None
