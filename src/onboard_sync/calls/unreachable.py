"""Recognise a vendor call that failed because no connection could be opened, and name the host.

Used by the API gate (:mod:`onboard_sync.calls.gate`): when every attempt of a call failed to
connect (refused, a host name that does not resolve, no route, a connect timeout), the CRM is
unreachable and the run stops with one line naming the host, instead of a retryable ApiError
that would repeat on every cron run. A read timeout or a reset connection is *not* such a
failure: the CRM was reached, and those calls stay ordinary retryable errors.

The connectors' HTTP libraries (urllib3 under the HubSpot SDK and requests, httpx) all keep the
socket-level ``OSError`` in the exception chain; only connect timeouts are recognised by the
libraries' class names, since a plain ``TimeoutError`` may also be a read timeout.
"""

from __future__ import annotations

import errno
import socket
from collections.abc import Iterator
from dataclasses import dataclass
from urllib.parse import urlsplit

_CONNECT_TIMEOUTS = frozenset({"ConnectTimeout", "ConnectTimeoutError"})  # httpx/httpcore/requests, urllib3
_NO_ROUTE = frozenset({errno.ENETUNREACH, errno.EHOSTUNREACH})


@dataclass(frozen=True, slots=True)
class ConnectFailure:
    """Why no connection could be opened, and to which ``host:port`` (None if no layer said)."""

    reason: str
    host: str | None


def connect_failure(exc: BaseException) -> ConnectFailure | None:
    """The connect failure behind ``exc`` (an ApiError raised from the library's exception), or None."""
    chain = list(_chain(exc))
    reason = next((r for r in map(_socket_reason, chain) if r), None)
    if reason is None and any(type(e).__name__ in _CONNECT_TIMEOUTS for e in chain):
        reason = "the connection timed out"
    if reason is None:
        return None
    return ConnectFailure(reason, next((h for h in map(_host_of, chain) if h), None))


def _socket_reason(exc: BaseException) -> str | None:
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused"
    if isinstance(exc, socket.gaierror):
        return "the host name does not resolve"
    if isinstance(exc, OSError) and exc.errno in _NO_ROUTE:
        return "no route to the host"
    return None


def _chain(exc: BaseException) -> Iterator[BaseException]:
    """``exc`` and every exception it carries: causes, contexts, urllib3's ``reason`` and exception
    arguments (requests wraps urllib3's error as its first argument)."""
    seen: set[int] = set()
    todo = [exc]
    while todo:
        current = todo.pop(0)
        if id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        carried = [current.__cause__, current.__context__, getattr(current, "reason", None), *current.args]
        todo.extend(e for e in carried if isinstance(e, BaseException))


def _host_of(exc: BaseException) -> str | None:
    for holder in ("conn", "pool"):  # urllib3: NewConnectionError.conn, MaxRetryError.pool
        target = getattr(exc, holder, None)
        host = getattr(target, "host", None)
        if isinstance(host, str) and host:
            port = getattr(target, "port", None)
            return f"{host}:{port}" if port else host
    try:  # httpx raises RuntimeError when the exception carries no request
        request = getattr(exc, "request", None)
    except RuntimeError:
        request = None
    url = getattr(request, "url", None)
    if url is None:
        return None
    parts = urlsplit(str(url))
    if not parts.hostname:
        return None
    return f"{parts.hostname}:{parts.port}" if parts.port else parts.hostname
