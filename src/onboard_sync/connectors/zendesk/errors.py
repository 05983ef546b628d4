"""What a Zendesk failure means for the core's gate (``classify_error``).

429 and 5xx are retryable (429 carries ``Retry-After``, which the gate honours); 409 (a
conflicting operation in progress) is retryable too; other 4xx are not. Connection errors and
timeouts are retryable status-0 errors. Messages carry Zendesk's ``error``/``description`` or
``errors[].title`` and never a credential.
"""

from __future__ import annotations

import json
from collections.abc import Iterable

from onboard_sync.errors import ApiError

RETRYABLE = frozenset({409, 429, 500, 502, 503, 504})


def describe(body: str) -> str:
    """Zendesk's error text from one of its three error envelopes."""
    try:
        data = json.loads(body)
    except ValueError:
        return body.strip()[:200]
    if isinstance(data, dict):
        if isinstance(data.get("errors"), list) and data["errors"]:
            first = data["errors"][0]
            if isinstance(first, dict):
                return str(first.get("title") or first.get("code") or first)
        parts = [str(data[k]) for k in ("error", "description") if data.get(k)]
        if parts:
            return ": ".join(parts)
    return str(data)[:200]


def classify(exc: BaseException, secrets: Iterable[str]) -> ApiError | None:
    import httpx  # loaded by then: the connector's client raised ``exc``

    from onboard_sync.connectors.zendesk.client import ZendeskHTTPError

    if isinstance(exc, ZendeskHTTPError):
        message = describe(exc.body)
        for secret in secrets:
            message = message.replace(secret, "***")
        return ApiError(
            message,
            status=exc.status,
            retryable=exc.status in RETRYABLE or exc.status >= 500,
            retry_after=exc.retry_after,
        )
    if isinstance(exc, httpx.TimeoutException | httpx.TransportError):
        return ApiError(f"connection failed: {type(exc).__name__}", status=0, retryable=True)
    return None


__all__ = ["RETRYABLE", "classify", "describe"]
