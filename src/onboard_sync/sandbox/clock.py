"""Injectable clock shared by every sandbox simulator.

Simulators read time only through a :class:`SandboxClock` so that tests and the demo can move
time forward (task due dates, OAuth token expiry, rate-limit windows, search lag) without sleeping.
By default the clock follows real time; ``advance()`` and ``set()`` shift it, ``freeze()`` stops it.
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    """What a simulator needs from a clock: the current aware UTC time."""

    def now(self) -> datetime: ...


class SandboxClock:
    """A settable clock: real time plus an offset, or frozen at a fixed instant.

    >>> clock = SandboxClock(frozen_at=datetime(2026, 1, 5, tzinfo=UTC))
    >>> clock.advance(days=1); clock.now().day
    6
    """

    def __init__(self, start: datetime | None = None, *, frozen_at: datetime | None = None) -> None:
        self._lock = threading.Lock()
        self._offset = timedelta(0)
        self._frozen: datetime | None = _aware(frozen_at) if frozen_at is not None else None
        if start is not None:
            self.set(start)

    def now(self) -> datetime:
        """The current simulated time (aware, UTC)."""
        with self._lock:
            if self._frozen is not None:
                return self._frozen
            return datetime.now(UTC) + self._offset

    def advance(self, **delta: float) -> datetime:
        """Move time forward by ``timedelta(**delta)`` (e.g. ``advance(days=3)``); returns the new now."""
        step = timedelta(**delta)
        with self._lock:
            if self._frozen is not None:
                self._frozen += step
            else:
                self._offset += step
        return self.now()

    def set(self, dt: datetime) -> None:
        """Jump to ``dt``; a running clock keeps ticking from there, a frozen one stays at ``dt``."""
        dt = _aware(dt)
        with self._lock:
            if self._frozen is not None:
                self._frozen = dt
            else:
                self._offset = dt - datetime.now(UTC)

    def freeze(self, at: datetime | None = None) -> None:
        """Stop the clock at ``at`` (default: the current simulated time)."""
        moment = _aware(at) if at is not None else self.now()
        with self._lock:
            self._frozen = moment

    def unfreeze(self) -> None:
        """Let a frozen clock tick again from where it stands."""
        with self._lock:
            if self._frozen is not None:
                self._offset = self._frozen - datetime.now(UTC)
                self._frozen = None


def _aware(dt: datetime) -> datetime:
    return dt.replace(tzinfo=UTC) if dt.tzinfo is None else dt.astimezone(UTC)


__all__ = ["Clock", "SandboxClock"]
