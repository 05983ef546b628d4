"""Fault injection shared by the sandbox simulators.

Tests and the demo arm faults on a running simulator (``sb.faults``); the dialect's ASGI app consumes
them per request and renders them in the vendor's wire format (bodies, headers). Thread-safe, since
tests arm faults from the main thread while the server runs in its own.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass


@dataclass(slots=True)
class Failure:
    """An armed "fail the next n matching requests" rule."""

    remaining: int
    status: int
    path_contains: str | None = None
    retry_after: float | None = None
    method: str | None = None
    detail: object = None
    """Anything the vendor's fault renderer should put in the answer (e.g. its own error object)."""

    def matches(self, method: str, path: str) -> bool:
        if self.method is not None and self.method.upper() != method.upper():
            return False
        return self.path_contains is None or self.path_contains in path


@dataclass(slots=True)
class PartialBatch:
    """Batch requests whose path contains ``path_contains`` fail every ``fail_every``-th input."""

    fail_every: int
    path_contains: str
    remaining: int | None = None


class FaultInjector:
    """Arms failures for the next requests of a simulator. ``clear()`` disarms everything."""

    def __init__(self, default_token: str = "") -> None:
        self._lock = threading.Lock()
        self._default_token = default_token
        self._failures: list[Failure] = []
        self._partials: list[PartialBatch] = []
        self._revoked: set[str] = set()

    def fail_next(
        self,
        n: int = 1,
        status: int = 500,
        path_contains: str | None = None,
        retry_after: float | None = None,
        method: str | None = None,
        detail: object = None,
    ) -> None:
        """The next ``n`` requests (whose path contains ``path_contains``, if given) fail with ``status``,
        carrying the vendor's error body; ``retry_after`` adds a ``Retry-After`` header (seconds);
        ``detail`` is handed to the vendor's renderer."""
        if n < 1:
            raise ValueError("n must be >= 1")
        with self._lock:
            self._failures.append(Failure(n, status, path_contains, retry_after, method, detail))

    def partial_batch(self, fail_every: int = 2, path_contains: str = "batch/create", times: int | None = None) -> None:
        """Matching batch requests answer 207: every ``fail_every``-th input fails, the others succeed.
        Stays armed for ``times`` requests (default: until ``clear()``)."""
        if fail_every < 1:
            raise ValueError("fail_every must be >= 1")
        with self._lock:
            self._partials.append(PartialBatch(fail_every, path_contains, times))

    def revoke_token(self, token: str | None = None) -> None:
        """Invalidate ``token`` (default: the simulator's private-app token)."""
        with self._lock:
            self._revoked.add(token if token is not None else self._default_token)

    def restore_token(self, token: str | None = None) -> None:
        with self._lock:
            self._revoked.discard(token if token is not None else self._default_token)

    def clear(self) -> None:
        """Disarm every fault and restore revoked tokens."""
        with self._lock:
            self._failures.clear()
            self._partials.clear()
            self._revoked.clear()

    # -- consumed by the dialect apps -------------------------------------------------------------

    def take_failure(self, method: str, path: str) -> Failure | None:
        """Consume one armed failure matching this request, if any."""
        with self._lock:
            for rule in self._failures:
                if rule.matches(method, path):
                    rule.remaining -= 1
                    if rule.remaining <= 0:
                        self._failures.remove(rule)
                    return Failure(1, rule.status, rule.path_contains, rule.retry_after, rule.method, rule.detail)
        return None

    def take_partial(self, path: str) -> int | None:
        """``fail_every`` for a batch request on ``path`` if a partial-batch fault is armed."""
        with self._lock:
            for rule in self._partials:
                if rule.path_contains in path:
                    if rule.remaining is not None:
                        rule.remaining -= 1
                        if rule.remaining <= 0:
                            self._partials.remove(rule)
                    return rule.fail_every
        return None

    def is_revoked(self, token: str) -> bool:
        with self._lock:
            return token in self._revoked

    @property
    def armed(self) -> bool:
        with self._lock:
            return bool(self._failures or self._partials or self._revoked)


__all__ = ["Failure", "FaultInjector", "PartialBatch"]
