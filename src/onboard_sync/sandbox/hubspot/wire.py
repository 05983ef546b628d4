"""HubSpot wire format for the sandbox: request parsing helpers and JSON shapes of responses.

Used by the response modules (``responses_*.py``) and the app (``app.py``). Every
response is ``application/json;charset=utf-8``; property values are strings or null; dates are
ISO-8601 with milliseconds and ``Z``.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from starlette.datastructures import QueryParams

from onboard_sync.sandbox.common import iso_from_ms, iso_ms
from onboard_sync.sandbox.hubspot import schema as sch
from onboard_sync.sandbox.hubspot.backend import HubSpotBackend
from onboard_sync.sandbox.hubspot.errors import HubSpotError, validation_error
from onboard_sync.sandbox.hubspot.models import Record
from onboard_sync.sandbox.middleware import Reply, SimRequest

JSON_TYPE = "application/json;charset=utf-8"


@dataclass
class Call:
    """One parsed request as the route handlers see it."""

    method: str
    path: str
    params: dict[str, str]
    query: QueryParams
    raw: bytes
    token: str | None = None
    headers: dict[str, str] = field(default_factory=dict)

    @classmethod
    def of(cls, request: SimRequest) -> Call:
        """The handler's view of a request that passed the middleware stack."""
        token = request.credential.token if request.credential is not None else None
        return cls(request.method, request.path, request.params, request.query, request.body, token)

    def json(self, default: Any = None) -> Any:
        """The JSON body; garbage -> 400 VALIDATION_ERROR like HubSpot ("Invalid input JSON ...")."""
        if not self.raw.strip():
            if default is not None:
                return default
            raise validation_error("Invalid input JSON: the request body is empty")
        try:
            return json.loads(self.raw)
        except (ValueError, UnicodeDecodeError) as exc:
            raise validation_error(f"Invalid input JSON on line 1, column 1: {exc}") from None

    def body_object(self) -> dict[str, Any]:
        body = self.json(default={})
        if not isinstance(body, dict):
            raise validation_error("Invalid input JSON: expected an object")
        return body

    def list_param(self, name: str) -> list[str] | None:
        """``properties=a&properties=b`` and ``properties=a,b`` alike; ``None`` when absent."""
        values = self.query.getlist(name)
        if not values:
            return None
        return [part.strip() for value in values for part in value.split(",") if part.strip()]

    def bool_param(self, name: str, default: bool = False) -> bool:
        value = self.query.get(name)
        if value is None:
            return default
        if value.lower() not in ("true", "false"):
            raise validation_error(f"Invalid value {value!r} for query parameter {name}: expected true or false")
        return value.lower() == "true"

    def int_param(self, name: str, default: int, maximum: int | None = None) -> int:
        value = self.query.get(name)
        if value is None or value == "":
            return default
        try:
            number = int(value)
        except ValueError:
            raise validation_error(f"Invalid value {value!r} for query parameter {name}: expected an integer") from None
        if number < 0:
            raise validation_error(f"{name} must be >= 0")
        return min(number, maximum) if maximum is not None else number


def error_reply(error: HubSpotError) -> Reply:
    return Reply(error.status, error.body())


def property_names(backend: HubSpotBackend, kind: str, requested: Iterable[str] | None) -> list[str]:
    """Properties a response carries: the defaults, or the requested ones plus the always-returned."""
    if requested is None:
        return sch.DEFAULT_PROPERTIES[kind]
    known = backend.schema[kind]
    names = [n for n in requested if n in known]
    return names + [n for n in sch.ALWAYS_RETURNED[kind] if n not in names]


def object_json(
    backend: HubSpotBackend,
    record: Record,
    names: Iterable[str] | None = None,
    associations: Iterable[str] | None = None,
    *,
    view: Mapping[str, str] | None = None,
    history: Iterable[str] | None = None,
) -> dict[str, Any]:
    """``SimplePublicObject[WithAssociations]``; ``names=None`` returns every set property."""
    props = record.properties if view is None else view
    properties = dict(props) if names is None else {n: props.get(n) for n in names}
    out: dict[str, Any] = {
        "id": record.id,
        "properties": properties,
        "createdAt": iso_from_ms(record.created_ms),
        "updatedAt": iso_from_ms(record.updated_ms),
        "archived": record.archived,
    }
    if record.archived and record.archived_at is not None:
        out["archivedAt"] = iso_ms(record.archived_at)
    if history:
        out["propertiesWithHistory"] = {
            n: [{"value": props[n], "timestamp": iso_from_ms(record.updated_ms), "sourceType": "CRM_UI"}]
            for n in history
            if props.get(n) is not None
        }
    if associations:
        linked: dict[str, Any] = {}
        for name in associations:
            to_kind = sch.resolve_kind(name)
            if to_kind is None:
                continue
            results = [
                {"id": tid, "type": sch.v3_type_name(t)}
                for tid, types in backend.association_types(record.kind, record.id, to_kind).items()
                for t in types
            ]
            if results:
                linked[to_kind] = {"results": results}
        if linked:
            out["associations"] = linked
    return out


def batch_body(results: list[Any], errors: list[dict[str, Any]], started: datetime, finished: datetime) -> dict:
    """``BatchResponse*`` (``numErrors``/``errors`` only when there are errors -> 207)."""
    body: dict[str, Any] = {
        "status": "COMPLETE",
        "results": results,
        "startedAt": iso_ms(started),
        "completedAt": iso_ms(finished),
    }
    if errors:
        body["numErrors"] = len(errors)
        body["errors"] = errors
    return body


def inputs_of(body: Mapping[str, Any], cap: int = 100) -> list[Any]:
    """The ``inputs`` list of a batch body; over ``cap`` inputs -> 400 VALIDATION_ERROR."""
    inputs = body.get("inputs")
    if not isinstance(inputs, list):
        raise validation_error("Invalid input JSON: 'inputs' must be a list")
    if len(inputs) > cap:
        raise HubSpotError(
            400,
            "VALIDATION_ERROR",
            f"Batch input size of {len(inputs)} exceeds the limit of {cap} inputs per request",
            context={"limit": [str(cap)]},
        )
    return inputs


def as_object(item: Any, what: str = "input") -> dict[str, Any]:
    if not isinstance(item, dict):
        raise validation_error(f"Invalid input JSON: each {what} must be an object")
    return item


__all__ = [
    "JSON_TYPE",
    "Call",
    "Reply",
    "as_object",
    "batch_body",
    "error_reply",
    "inputs_of",
    "object_json",
    "property_names",
]
