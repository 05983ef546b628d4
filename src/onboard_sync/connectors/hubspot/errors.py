"""Turn what the HubSpot SDK raises into onboard-sync's ``ApiError`` (used by ``classify_error``).

The SDK has one ``ApiException`` class per generated sub-package with no common base, so errors
are recognised by duck typing (``.status``, ``.headers``, ``.body``). urllib3 connection errors
and timeouts become retryable status-0 errors. Messages carry HubSpot's own message and
``correlationId`` (what HubSpot support asks for) and never the access token.
"""

from __future__ import annotations

import json
import re
import socket
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from onboard_sync.errors import ApiError, RateLimitExhausted
from onboard_sync.toolkit.redact import redact

RETRYABLE_STATUSES = frozenset({423, 429, 477, 500, 502, 503, 504, 521, 523, 524})
"""Statuses HubSpot documents as "pause and retry" (plus every other 5xx, see ``_retryable``)."""


@dataclass(frozen=True, slots=True)
class VendorError:
    """The useful parts of a HubSpot error body (every field is optional)."""

    message: str
    category: str | None = None
    correlation_id: str | None = None
    policy: str | None = None
    details: tuple[Mapping[str, Any], ...] = ()


def parse_body(body: object) -> VendorError:
    """Read HubSpot's error JSON (``message``, ``category``, ``correlationId``, ``policyName``)."""
    if isinstance(body, bytes | bytearray):
        body = body.decode("utf-8", "replace")
    if not isinstance(body, str) or not body.strip():
        return VendorError(message="")
    try:
        data = json.loads(body)
    except ValueError:
        return VendorError(message=body.strip()[:300])
    if not isinstance(data, dict):
        return VendorError(message=str(data)[:300])
    details = tuple(d for d in data.get("errors") or () if isinstance(d, Mapping))
    return VendorError(
        message=str(data.get("message") or ""),
        category=data.get("category") or data.get("errorType"),
        correlation_id=data.get("correlationId"),
        policy=data.get("policyName"),
        details=details,
    )


def header(headers: object, name: str) -> str | None:
    """A response header, case-insensitively (the SDK hands over an HTTPHeaderDict or a dict)."""
    if not headers:
        return None
    getter = getattr(headers, "get", None)
    if getter is not None:
        value = getter(name)
        if value is not None:
            return str(value)
    items: Iterable[tuple[str, Any]] = headers.items() if isinstance(headers, Mapping) else ()
    for key, value in items:
        if key.lower() == name.lower():
            return str(value)
    return None


def missing_property(vendor: VendorError) -> str | None:
    """The property named by a PROPERTY_DOESNT_EXIST validation error, if that is what it is."""
    text = vendor.message + " " + json.dumps(list(vendor.details), default=str)
    if "PROPERTY_DOESNT_EXIST" not in text and "does not exist" not in text:
        return None
    for detail in vendor.details:
        names = (detail.get("context") or {}).get("propertyName")
        if names:
            return str(names[0])
    match = re.search(r'[Pp]roperty \\?"([\w.-]+)\\?" does not exist', text) or re.search(
        r'"name\\?"\s*:\s*\\?"([\w.-]+)', text
    )
    return match.group(1) if match else "?"


def _retry_after(status: int, headers: object, vendor: VendorError) -> float | None:
    raw = header(headers, "Retry-After")
    if raw is not None:
        try:
            return max(0.0, float(raw))
        except ValueError:
            pass
    if status == 423:
        return 2.0  # HubSpot: "delay at least 2 seconds"
    if status != 429:
        return None
    if vendor.policy == "SECONDLY":  # search's own 5 requests/s limit
        return 1.0
    interval = header(headers, "X-HubSpot-RateLimit-Interval-Milliseconds")
    if interval is not None or vendor.policy == "TEN_SECONDLY_ROLLING":
        window = float(interval) / 1000.0 if interval and interval.isdigit() else 10.0
        # A rolling window frees a slot as each old request ages out: wait about a tenth of it,
        # and the whole window when HubSpot says none is left.
        remaining = header(headers, "X-HubSpot-RateLimit-Remaining")
        wait = window if remaining == "0" else window / 10.0
        return min(10.0, max(1.0, wait))
    return None


def _retryable(status: int) -> bool:
    return status in RETRYABLE_STATUSES or 500 <= status < 600


def describe(status: int, vendor: VendorError, reason: str | None) -> str:
    """One line for humans: what HubSpot said, and the ids that help its support."""
    prop = missing_property(vendor) if status == 400 else None
    if prop is not None:
        text = f"property {prop!r} does not exist in HubSpot (run `onboard-sync setup` or fix the mapping)"
    elif status == 401:
        text = "HubSpot refused the access token (expired, revoked or wrong portal)"
    elif status == 403:
        text = "the HubSpot app lacks a required scope"
    elif status == 429 and vendor.policy == "DAILY":
        text = "HubSpot daily API limit reached; it resets at midnight in the portal's time zone"
    elif status == 429:
        text = "HubSpot rate limit reached"
    else:
        text = reason or "HubSpot error"
    extras = [vendor.message] if vendor.message and vendor.message not in text else []
    if vendor.category:
        extras.append(f"category {vendor.category}")
    if vendor.correlation_id:
        extras.append(f"correlationId {vendor.correlation_id}")
    return f"{text} ({'; '.join(extras)})" if extras else text


def classify(exc: BaseException, secrets: Iterable[str] = ()) -> ApiError | None:
    """What ``exc`` (raised inside ``call``) means: an ``ApiError``, or ``None`` if not an API error."""
    if isinstance(exc, ApiError):
        return exc
    import urllib3.exceptions  # loaded by then: the SDK raised ``exc``

    if isinstance(exc, urllib3.exceptions.HTTPError | ConnectionError | TimeoutError | socket.timeout):
        reason = getattr(exc, "reason", None) or exc
        return ApiError(redact(f"cannot reach HubSpot: {type(reason).__name__}: {reason}", secrets), retryable=True)
    status = getattr(exc, "status", None)
    if not isinstance(status, int) or not hasattr(exc, "body"):
        return None
    headers = getattr(exc, "headers", None)
    vendor = parse_body(getattr(exc, "body", None))
    if status == 0:  # the SDK could not parse a response: a protocol problem, not transient
        text = f"unreadable HubSpot response: {getattr(exc, 'reason', '')}"
        return ApiError(redact(text, secrets), status=0, retryable=False)
    message = redact(describe(status, vendor, getattr(exc, "reason", None)), secrets)
    if status == 429 and vendor.policy == "DAILY":
        return RateLimitExhausted(message, status=429, retryable=False)
    return ApiError(
        message,
        status=status,
        retryable=_retryable(status),
        retry_after=_retry_after(status, headers, vendor),
    )
