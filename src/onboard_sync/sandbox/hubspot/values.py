"""Property value rules of the HubSpot sandbox: coercion to strings and validation against the schema.

Used by the backend on every write (API or "UI"): unknown properties (PROPERTY_DOESNT_EXIST), read-only
values, bad numbers, dates, enumeration options and owner ids become HubSpot's 400 VALIDATION_ERROR.
"""

from __future__ import annotations

from collections.abc import Container, Mapping
from typing import Any

from onboard_sync.sandbox.common import iso_ms, parse_instant
from onboard_sync.sandbox.hubspot.errors import property_errors, validation_error
from onboard_sync.sandbox.hubspot.schema import READ_ONLY


def to_wire_string(value: Any) -> str | None:
    """JSON scalar -> HubSpot's string form (``True`` -> ``"true"``); ``None``/``""`` clear the value."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    if isinstance(value, str):
        return value if value != "" else None
    raise TypeError(type(value).__name__)


def clean_properties(
    kind: str,
    properties: Any,
    schema: Mapping[str, Mapping[str, Any]],
    owners: Container[str],
    *,
    allow_read_only: bool = False,
) -> dict[str, str | None]:
    """Validate and normalise ``properties`` for a write; raise HubSpot's 400 on any problem."""
    if properties is None:
        return {}
    if not isinstance(properties, Mapping):
        raise validation_error("Invalid input JSON: 'properties' must be an object of property name to value")
    problems: list[tuple[str, str, str]] = []
    clean: dict[str, str | None] = {}
    for name, raw in properties.items():
        definition = schema.get(str(name))
        if definition is None:
            problems.append((name, "PROPERTY_DOESNT_EXIST", f'Property "{name}" does not exist'))
            continue
        if name in READ_ONLY and not allow_read_only:
            problems.append((name, "READ_ONLY_VALUE", f'"{name}" is a read only property; its value cannot be set.'))
            continue
        try:
            value = to_wire_string(raw)
        except TypeError:
            problems.append((name, "INVALID_VALUE", f"{raw!r} is not a valid value for {name}"))
            continue
        if value is not None:
            value, problem = _check(name, value, definition, owners)
            if problem:
                problems.append(problem)
                continue
        clean[name] = value
    if problems:
        raise property_errors(problems)
    return clean


def _check(
    name: str, value: str, definition: Mapping[str, Any], owners: Container[str]
) -> tuple[str, tuple[str, str, str] | None]:
    type_ = definition.get("type")
    if type_ == "number":
        try:
            float(value)
        except ValueError:
            return value, (name, "INVALID_DECIMAL", f"{value} was not a valid number.")
        return value, None
    if type_ in ("datetime", "date"):
        instant = parse_instant(value)
        if instant is None:
            return value, (name, "INVALID_DATE", f"{value} was not a valid date or timestamp for {name}.")
        if type_ == "date":
            instant = instant.replace(hour=0, minute=0, second=0, microsecond=0)
        return iso_ms(instant), None
    if type_ == "bool":
        if value.lower() not in ("true", "false"):
            return value, (name, "INVALID_BOOLEAN", f"{value} was not a valid boolean.")
        return value.lower(), None
    if name == "hubspot_owner_id":
        if value not in owners:
            return value, (name, "INVALID_OWNER_ID", f"{value} is not a valid owner id")
        return value, None
    if type_ == "enumeration":
        allowed = [o["value"] for o in definition.get("options") or []]
        if allowed and any(part not in allowed for part in value.split(";")):
            return value, (
                name,
                "INVALID_OPTION",
                f"{value} was not one of the allowed options: {', '.join(allowed)}",
            )
    return value, None


__all__ = ["clean_properties", "to_wire_string"]
