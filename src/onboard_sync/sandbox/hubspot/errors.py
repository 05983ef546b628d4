"""The HubSpot sandbox's error type and the vendor's error bodies.

Raised by the backend (validation, not found, conflicts) and rendered by the wire layer as
``{"status":"error","message":...,"correlationId":uuid,"category":...}`` with the right HTTP status.
"""

from __future__ import annotations

import json
import uuid
from typing import Any


class HubSpotError(Exception):
    """An API error with HubSpot's status, category and message (plus optional ``errors``/``context``)."""

    def __init__(
        self,
        status: int,
        category: str,
        message: str,
        *,
        errors: list[dict[str, Any]] | None = None,
        context: dict[str, list[str]] | None = None,
        sub_category: str | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.category = category
        self.message = message
        self.errors = errors
        self.context = context
        self.sub_category = sub_category

    def body(self) -> dict[str, Any]:
        """The response body of a failed request."""
        out: dict[str, Any] = {
            "status": "error",
            "message": self.message,
            "correlationId": str(uuid.uuid4()),
            "category": self.category,
        }
        if self.sub_category:
            out["subCategory"] = self.sub_category
        if self.errors:
            out["errors"] = self.errors
        if self.context:
            out["context"] = self.context
        return out

    def batch_error(self, trace_id: str | None = None, extra_context: dict[str, list[str]] | None = None) -> dict:
        """This error as one entry of a 207 batch response's ``errors``."""
        context = {**(self.context or {}), **(extra_context or {})}
        if trace_id is not None:
            context["objectWriteTraceId"] = [trace_id]
        out: dict[str, Any] = {
            "status": "error",
            "category": self.category,
            "message": self.message,
            "context": context,
        }
        if self.errors:
            out["errors"] = self.errors
        if self.sub_category:
            out["subCategory"] = self.sub_category
        return out


def validation_error(message: str) -> HubSpotError:
    return HubSpotError(400, "VALIDATION_ERROR", message)


def not_found(message: str = "resource not found") -> HubSpotError:
    return HubSpotError(404, "OBJECT_NOT_FOUND", message)


def property_errors(problems: list[tuple[str, str, str]]) -> HubSpotError:
    """400 VALIDATION_ERROR for invalid property values; ``problems`` are (name, code, message) triples,
    e.g. ``("foo", "PROPERTY_DOESNT_EXIST", 'Property "foo" does not exist')``."""
    detail = [
        {"isValid": False, "message": msg, "error": code, "name": name, "localizedErrorMessage": msg}
        for name, code, msg in problems
    ]
    return HubSpotError(
        400,
        "VALIDATION_ERROR",
        f"Property values were not valid: {json.dumps(detail, separators=(',', ':'))}",
        errors=[{"message": msg, "code": code, "context": {"propertyName": [name]}} for name, code, msg in problems],
    )


__all__ = ["HubSpotError", "not_found", "property_errors", "validation_error"]
