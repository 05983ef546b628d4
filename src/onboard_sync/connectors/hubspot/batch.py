"""Batch write answers (201/200, or 207 multi-status) mapped back to one result per input.

Every batch input is sent with ``objectWriteTraceId`` = the write's key, so HubSpot names the
failed inputs in ``errors[].context.objectWriteTraceId``. Called by the connector's
``create_tasks``, ``update_tasks`` and ``write_fields``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from onboard_sync.connector import WriteResult
from onboard_sync.connectors.hubspot.errors import parse_body

RETRYABLE_CATEGORIES = frozenset({"RATE_LIMITS", "INTERNAL_ERROR", "TIMEOUT", "LOCKED", "SERVICE_UNAVAILABLE"})
EXISTING_ID = re.compile(r"Existing ID: (\d+)")
CONFLICT_TEXT = re.compile(r"already (exists|has)|duplicate|must be unique|unique value", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class Failure:
    """Why HubSpot refused one input of a batch."""

    message: str
    retryable: bool
    conflict: bool
    existing_id: str | None = None
    """On a conflict, the id of the record already holding the unique value, when HubSpot names it."""
    missing: tuple[str, ...] = ()
    """The properties HubSpot says do not exist (``PROPERTY_DOESNT_EXIST``)."""


def _detail(detail: Any, name: str) -> Any:
    return detail.get(name) if isinstance(detail, Mapping) else getattr(detail, name, None)


def failure_of(error: Any) -> Failure:
    """A ``StandardError`` of a 207 answer as a :class:`Failure`."""
    category = getattr(error, "category", None) or ""
    message = getattr(error, "message", None) or "refused by HubSpot"
    details = getattr(error, "errors", None) or ()
    codes = [str(_detail(d, "code") or "") for d in details]
    missing = [
        (_detail(d, "context") or {}).get("propertyName", ["?"])[0]
        for d in details
        if _detail(d, "code") == "PROPERTY_DOESNT_EXIST"
    ]
    status = str(getattr(error, "status", "") or "")
    retryable = category in RETRYABLE_CATEGORIES or status in {"429", "500", "502", "503", "504"}
    conflict = category == "CONFLICT" or any("DUPLICATE" in c or "UNIQUE" in c for c in codes)
    conflict = conflict or bool(CONFLICT_TEXT.search(message))
    if missing:
        names = ", ".join(repr(m) for m in missing)
        message = f"property {names} does not exist in HubSpot (run `onboard-sync setup` or fix the mapping)"
    text = f"{message} (category {category})" if category else message
    existing = EXISTING_ID.search(message) if conflict else None
    return Failure(
        message=text,
        retryable=retryable and not conflict,
        conflict=conflict,
        existing_id=existing.group(1) if existing else None,
        missing=tuple(dict.fromkeys(str(m) for m in missing)),
    )


def unknown_properties(exc: BaseException) -> tuple[str, ...]:
    """The properties a batch call refused as a whole names as not existing (a 400 ``VALIDATION_ERROR``
    whose ``errors`` say ``PROPERTY_DOESNT_EXIST``, or whose message lists them); empty if none."""
    cause = exc.__cause__ if exc.__cause__ is not None else exc
    vendor = parse_body(getattr(cause, "body", None))
    names = [
        str(name)
        for detail in vendor.details
        if _detail(detail, "code") == "PROPERTY_DOESNT_EXIST"
        for name in (_detail(detail, "context") or {}).get("propertyName") or ()
    ]
    names += _listed_missing(vendor.message)
    return tuple(dict.fromkeys(names))


def _listed_missing(message: str) -> list[str]:
    """The missing properties in the JSON list of a "Property values were not valid: [...]" message."""
    start = message.find("[")
    try:
        listed = json.loads(message[start:]) if start >= 0 else []
    except ValueError:
        return []
    items = [item for item in listed if isinstance(item, dict)]  # a JSON text starting with "[" is a list
    return [str(i["name"]) for i in items if i.get("error") == "PROPERTY_DOESNT_EXIST" and i.get("name")]


def error_keys(error: Any, key_of_id: Mapping[str, str]) -> list[str]:
    """The write keys an error is about: its trace ids, else the record ids it names."""
    context: Mapping[str, Iterable[str]] = getattr(error, "context", None) or {}
    keys = [str(k) for k in context.get("objectWriteTraceId") or ()]
    for name in ("ids", "id"):
        keys += [key_of_id[str(i)] for i in context.get(name) or () if str(i) in key_of_id]
    return keys


def split(
    response: Any, key_of: Callable[[Any], str | None], key_of_id: Mapping[str, str] | None = None
) -> tuple[dict[str, str], dict[str, Failure]]:
    """The ids of the records written and the failures of a batch answer, by write key."""
    done: dict[str, str] = {}
    for obj in getattr(response, "results", None) or ():
        key = key_of(obj)
        if key is not None:
            done[key] = str(obj.id)
    failed: dict[str, Failure] = {}
    for error in getattr(response, "errors", None) or ():
        for key in error_keys(error, key_of_id or {}):
            failed[key] = failure_of(error)
    return done, failed


def results_in_order(keys: Iterable[str], done: Mapping[str, str], failed: Mapping[str, Failure]) -> list[WriteResult]:
    """One ``WriteResult`` per key, in input order."""
    out = []
    for key in keys:
        if key in done:
            out.append(WriteResult(key=key, ok=True, remote_id=done[key]))
        elif key in failed:
            f = failed[key]
            out.append(
                WriteResult(key=key, ok=False, error=f.message, retryable=f.retryable, unknown_properties=f.missing)
            )
        else:
            out.append(
                WriteResult(key=key, ok=False, error="HubSpot returned no result for this input (outcome unknown)")
            )
    return out


def is_conflict(exc: BaseException) -> bool:
    """Whether a failed batch call was refused as a whole over a duplicate unique value."""
    status = getattr(exc, "status", None)
    if status == 409:
        return True
    if status != 400:
        return False
    vendor = parse_body(getattr(exc, "body", None))
    text = vendor.message + json.dumps(list(vendor.details), default=str) + str(exc)
    return bool(CONFLICT_TEXT.search(text))
