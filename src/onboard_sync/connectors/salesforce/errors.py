"""Turn what simple-salesforce and requests raise into onboard-sync's ``ApiError`` (``classify_error``).

simple-salesforce raises ``SalesforceError`` subclasses carrying the HTTP status and Salesforce's error
array (``[{"errorCode", "message"}]``). A 403 ``REQUEST_LIMIT_EXCEEDED`` for the daily total becomes
``RateLimitExhausted`` (the engine stops the instance cleanly; the next run resumes from its cursor);
the concurrency flavour of that code is retryable. Connection errors and timeouts are retryable.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from onboard_sync.errors import ApiError, RateLimitExhausted
from onboard_sync.toolkit.redact import redact

RETRYABLE_CODES = frozenset(
    {"UNABLE_TO_LOCK_ROW", "SERVER_UNAVAILABLE", "REQUEST_RUNNING_TOO_LONG", "QUERY_TIMEOUT", "UNKNOWN_EXCEPTION"}
)


def first_error(content: Any) -> tuple[str, str]:
    """``(errorCode, message)`` of a Salesforce error body (an array; a dict or text tolerated)."""
    if isinstance(content, list) and content and isinstance(content[0], dict):
        entry = content[0]
        return str(entry.get("errorCode") or entry.get("statusCode") or ""), str(entry.get("message") or "")
    if isinstance(content, dict):
        return str(content.get("error") or content.get("errorCode") or ""), str(
            content.get("error_description") or content.get("message") or ""
        )
    return "", str(content or "")[:300]


def error_code(exc: BaseException) -> str:
    """The errorCode behind ``exc`` or the error it was raised from ("" if none)."""
    from simple_salesforce.exceptions import SalesforceAuthenticationFailed, SalesforceError  # loaded by then

    for candidate in (exc, exc.__cause__):
        if isinstance(candidate, SalesforceError) and not isinstance(candidate, SalesforceAuthenticationFailed):
            return first_error(candidate.content)[0]
    return ""


NO_SUCH_COLUMN = re.compile(r"No such column '([^']+)' on (?:sobject|entity)")


def unknown_fields(exc: BaseException) -> tuple[str, ...]:
    """The fields a request refused as a whole names as not existing (400 ``INVALID_FIELD``,
    ``No such column 'X' on sobject of type Y``); empty if that is not why it was refused."""
    from simple_salesforce.exceptions import SalesforceAuthenticationFailed, SalesforceError  # loaded by then

    for candidate in (exc, exc.__cause__):
        if isinstance(candidate, SalesforceError) and not isinstance(candidate, SalesforceAuthenticationFailed):
            code, message = first_error(candidate.content)
            if code == "INVALID_FIELD":
                return tuple(dict.fromkeys(NO_SUCH_COLUMN.findall(message)))
    return ()


def classify(exc: BaseException, secrets: Iterable[str] = ()) -> ApiError | None:
    """What ``exc`` (raised inside ``call``) means: an ``ApiError``, or None if not an API error."""
    if isinstance(exc, ApiError):
        return exc
    import requests  # loaded by then, with simple-salesforce: the connector called them
    from simple_salesforce.exceptions import SalesforceAuthenticationFailed, SalesforceError

    if isinstance(exc, requests.exceptions.SSLError):
        return ApiError(redact(f"TLS failure talking to Salesforce (check ca_bundle/verify): {exc}", secrets))
    if isinstance(exc, requests.exceptions.ConnectionError | requests.exceptions.Timeout):
        return ApiError(redact(f"cannot reach Salesforce: {type(exc).__name__}: {exc}", secrets), retryable=True)
    if isinstance(exc, SalesforceAuthenticationFailed) or not isinstance(exc, SalesforceError):
        return None
    status = int(getattr(exc, "status", 0) or 0)
    code, message = first_error(exc.content)
    text = redact(f"{code}: {message}".strip(": ") or f"Salesforce error {status}", secrets)
    if status == 403 and code == "REQUEST_LIMIT_EXCEEDED":
        if "concurrent" in message.lower():
            return ApiError(
                f"Salesforce concurrent request limit reached ({text})", status=403, retryable=True, retry_after=5.0
            )
        return RateLimitExhausted(
            f"Salesforce daily API request limit reached ({text}); it frees up over a rolling 24 hours",
            status=403,
        )
    if status == 401:
        return ApiError(f"Salesforce refused the session ({text})", status=401)
    if status == 400 and code in ("INVALID_FIELD", "INVALID_TYPE"):
        text += " (run `onboard-sync setup`, grant field-level security, or fix the mapping)"
    retryable = status >= 500 or code in RETRYABLE_CODES
    return ApiError(text, status=status, retryable=retryable)
