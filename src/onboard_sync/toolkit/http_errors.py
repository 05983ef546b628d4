"""What a failed HTTP call means to the core's gate: the HTTP status behind an error, ``Retry-After``,
and the translation of an HTTP failure into an ``ApiError``.

:func:`status_of` reads the status of an exception or of the one it was raised from (the gate turns
a 401 into an ``AuthError`` whose ``__cause__`` holds the vendor's error); every connector uses it.
:class:`HttpError` is what :class:`onboard_sync.toolkit.rest.RestClient` raises on a 4xx/5xx answer,
and :func:`classify_http` is the ``classify_error`` of REST connectors (``toolkit.connector``):
429 and 5xx retryable, ``Retry-After`` honoured, connection failures retryable with status 0, the
vendor's own error text kept and every secret redacted.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

from onboard_sync.errors import ApiError, RateLimitExhausted
from onboard_sync.toolkit.redact import redact

RETRYABLE_STATUSES = frozenset({429, 500, 502, 503, 504})
"""Retried by default (and every other 5xx): rate limited, or the server's trouble."""


def status_of(exc: BaseException) -> int | None:
    """The HTTP status behind ``exc``: its own ``status``, or that of the error it was raised from."""
    for candidate in (exc, exc.__cause__):
        status = getattr(candidate, "status", None)
        if isinstance(status, int) and not isinstance(status, bool):
            return status
    return None


def retry_after_seconds(value: str | None, *, now: Callable[[], datetime] = lambda: datetime.now(UTC)) -> float | None:
    """A ``Retry-After`` header in seconds: delta-seconds or an HTTP date; ``None`` if absent or unreadable."""
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, (when - now()).total_seconds())


class HttpError(Exception):
    """A vendor answer with status >= 400, as :class:`RestClient` raised it (classify it with
    :func:`classify_http`). ``credential`` is the generation of the credentials it was sent with
    (``None``: sent without any, as a token request is)."""

    def __init__(
        self, status: int, body: str, path: str, *, retry_after: float | None = None, credential: int | None = None
    ) -> None:
        self.status, self.body, self.path = status, body, path
        self.retry_after, self.credential = retry_after, credential
        super().__init__(f"HTTP {status} on {path}")


def error_text(body: str) -> str:
    """The vendor's own words from a JSON error body (``message``, ``error`` + ``description``,
    ``errors[0]``'s ``title``/``message``), or the start of a text body."""
    try:
        data = json.loads(body)
    except ValueError:
        return body.strip()[:200]
    if isinstance(data, dict):
        errors = data.get("errors")
        if isinstance(errors, list) and errors and isinstance(errors[0], dict):
            first = errors[0]
            return str(first.get("title") or first.get("message") or first.get("code") or first)[:200]
        parts = [str(data[k]) for k in ("error", "message", "description") if isinstance(data.get(k), str | int)]
        if parts:
            return ": ".join(dict.fromkeys(parts))[:200]
    return str(data)[:200]


def classify_http(
    exc: BaseException,
    secrets: Iterable[str],
    *,
    retryable: frozenset[int] = RETRYABLE_STATUSES,
    describe: Callable[[str], str] = error_text,
    exhausted: Callable[[HttpError], bool] = lambda error: False,
) -> ApiError | None:
    """``exc`` (raised inside a gated call) as an ``ApiError``; ``None`` when it is not an HTTP failure.

    ``retryable``: statuses worth another attempt (every 5xx is); ``describe``: the vendor's message
    from a body; ``exhausted``: whether an answer means a long-lived quota is used up
    (``RateLimitExhausted``, never retried)."""
    import httpx  # loaded by then: the connector's client raised ``exc``

    if isinstance(exc, ApiError):
        return exc
    if isinstance(exc, HttpError):
        message = redact(describe(exc.body) or f"HTTP {exc.status}", secrets)
        if exhausted(exc):
            return RateLimitExhausted(message, status=exc.status)
        again = exc.status in retryable or exc.status >= 500
        return ApiError(message, status=exc.status, retryable=again, retry_after=exc.retry_after)
    if isinstance(exc, httpx.TimeoutException | httpx.TransportError):
        return ApiError(redact(f"connection failed: {type(exc).__name__}: {exc}", secrets), status=0, retryable=True)
    return None


__all__ = ["RETRYABLE_STATUSES", "HttpError", "classify_http", "error_text", "retry_after_seconds", "status_of"]
