"""Salesforce fields for ``describe`` (validate --remote) and ``ensure_properties`` (setup).

Custom fields are created through the Tooling API (``POST tooling/sobjects/CustomField``). Where the org
refuses (the integration user lacks Customize Application, or the Tooling API is off), each missing
field becomes a ``SetupAction(done=False)`` saying exactly what an admin must create. Task custom fields
live on the Activity object. Called by :class:`.connector.SalesforceConnector`.
"""

from __future__ import annotations

from typing import Any

from onboard_sync.connector import PropertySchema, PropertySpec
from onboard_sync.records import ObjectKind

SOBJECTS = {
    ObjectKind.DEAL: "Opportunity",
    ObjectKind.ACCOUNT: "Account",
    ObjectKind.CONTACT: "Contact",
    ObjectKind.TASK: "Task",
    ObjectKind.TICKET: "Case",
}
TYPES = {
    "string": "string",
    "textarea": "string",
    "url": "string",
    "email": "string",
    "phone": "string",
    "combobox": "string",
    "id": "string",
    "reference": "string",
    "double": "number",
    "int": "number",
    "currency": "number",
    "percent": "number",
    "date": "date",
    "datetime": "datetime",
    "picklist": "enumeration",
    "multipicklist": "enumeration",
    "boolean": "bool",
}
NUMBER_TYPES = frozenset({"double", "int", "currency", "percent"})
TOOLING_LABELS = {
    "string": "Text(255)",
    "number": "Number(16, 2)",
    "date": "Date",
    "datetime": "Date/Time",
    "enumeration": "Picklist",
    "bool": "Checkbox",
}


def sobject(kind: ObjectKind) -> str:
    return SOBJECTS[kind]


def metadata_object(kind: ObjectKind) -> str:
    """Where custom fields of ``kind`` are defined (Task fields live on Activity)."""
    return "Activity" if kind is ObjectKind.TASK else SOBJECTS[kind]


HELP_TEXT = "Written by onboard-sync: a change made here is overwritten by its next sync."
"""The help text ``setup`` gives the fields it creates; describe() returns it (``inlineHelpText``), which
is how a field is known to be onboard-sync's."""


def to_schema(field: dict[str, Any]) -> PropertySchema:
    custom = bool(field.get("custom"))
    return PropertySchema(
        name=str(field["name"]),
        label=str(field.get("label") or field["name"]),
        type=TYPES.get(str(field.get("type")), "string"),
        options=tuple(str(p["value"]) for p in field.get("picklistValues") or () if p.get("active", True)),
        unique=bool(field.get("unique") or field.get("externalId")),
        read_only=not field.get("updateable", False),
        built_in=not custom,
        created_by_setup=custom and "onboard-sync" in str(field.get("inlineHelpText") or ""),
    )


def tooling_body(spec: PropertySpec) -> dict[str, Any]:
    """The Tooling API ``CustomField`` body for ``spec``."""
    meta: dict[str, Any] = {
        "label": spec.label[:40],
        "description": spec.description[:1000],
        "inlineHelpText": HELP_TEXT,
    }
    if spec.type == "number":
        meta.update(type="Number", precision=18, scale=2)
    elif spec.type == "date":
        meta["type"] = "Date"
    elif spec.type == "datetime":
        meta["type"] = "DateTime"
    elif spec.type == "bool":
        meta.update(type="Checkbox", defaultValue="false")
    elif spec.type == "enumeration" and spec.options:
        meta.update(
            type="Picklist",
            valueSet={
                "restricted": False,
                "valueSetDefinition": {
                    "sorted": False,
                    "value": [{"fullName": o, "label": o, "default": False} for o in spec.options],
                },
            },
        )
    else:
        meta.update(type="Text", length=255)
    if spec.unique:
        meta.update(externalId=True, unique=True, caseSensitive=True)
    return {"FullName": f"{metadata_object(spec.kind)}.{spec.name}", "Metadata": meta}


def admin_instruction(spec: PropertySpec) -> str:
    """What an admin must create by hand when the Tooling API is refused."""
    obj = metadata_object(spec.kind)
    kind = TOOLING_LABELS.get(spec.type, "Text(255)")
    parts = [
        f"an admin must create the custom field {spec.name} on {obj} in Setup > Object Manager: "
        f"{kind}, label {spec.label!r}"
    ]
    if spec.options:
        parts.append(f"values {', '.join(spec.options)}")
    if spec.unique:
        parts.append("External ID and Unique ticked")
    parts.append("then give the integration user edit access to it (field-level security)")
    return "; ".join(parts)


def mismatch(spec: PropertySpec, found: PropertySchema) -> str | None:
    """Why an existing field does not fit ``spec`` (an admin must fix it), or None."""
    compatible = (
        {found.type, spec.type} <= {"date", "datetime"}
        or found.type == spec.type
        or (spec.type == "enumeration" and found.type == "string")
        or (spec.type == "string" and found.type == "enumeration")
    )
    if not compatible:
        return f"has type {found.type}, onboard-sync needs {spec.type}"
    if found.read_only:
        return "is read-only for the integration user: grant edit access (field-level security)"
    return None
