"""Rate-limit counters shared by the sandbox simulators, driven by the sandbox clock.

A :class:`RollingWindow` counts requests per key over a rolling window (HubSpot's ten-secondly
bucket, the search secondly limit, Zendesk's per-minute limits) and says when the next slot frees
(``retry_after``); a :class:`DailyCounter` counts per UTC day (HubSpot's and Salesforce's daily API
limits). With ``enforce=False`` they only count, so apps can still send realistic "remaining" headers.
The :class:`~onboard_sync.sandbox.middleware.RateLimits` stage counts requests against them.
"""

from __future__ import annotations

import threading
from collections import defaultdict, deque
from datetime import date, datetime, timedelta

from onboard_sync.sandbox.clock import Clock


class RollingWindow:
    """At most ``limit`` hits per key within any ``window`` seconds."""

    def __init__(self, limit: int, window: float, clock: Clock, *, enforce: bool = True) -> None:
        if limit < 1 or window <= 0:
            raise ValueError("limit must be >= 1 and window > 0")
        self.limit = limit
        self.window = window
        self.enforce = enforce
        self._clock = clock
        self._hits: dict[str, deque[datetime]] = defaultdict(deque)
        self._lock = threading.Lock()

    @classmethod
    def per_second(cls, rate: float, clock: Clock) -> RollingWindow:
        """A limiter for ``rate`` requests per second (fractional rates widen the window)."""
        limit = max(1, round(rate)) if rate >= 1 else 1
        return cls(limit, limit / rate, clock)

    def _current(self, key: str, now: datetime) -> deque[datetime]:
        hits = self._hits[key]
        horizon = now - timedelta(seconds=self.window)
        while hits and hits[0] <= horizon:
            hits.popleft()
        return hits

    def hit(self, key: str) -> tuple[bool, int]:
        """Count one request; returns (allowed, remaining). A refused request is not counted."""
        now = self._clock.now()
        with self._lock:
            hits = self._current(key, now)
            if self.enforce and len(hits) >= self.limit:
                return False, 0
            hits.append(now)
            return True, max(0, self.limit - len(hits))

    def retry_after(self, key: str) -> int:
        """Whole seconds until the oldest hit of ``key`` leaves the window (at least 1)."""
        now = self._clock.now()
        with self._lock:
            hits = self._current(key, now)
            if not hits:
                return 1
            left = self.window - (now - hits[0]).total_seconds()
        return max(1, int(left + 0.999))

    def reset(self) -> None:
        with self._lock:
            self._hits.clear()


class DailyCounter:
    """At most ``limit`` hits per key per UTC day (HubSpot resets at midnight in the portal's zone)."""

    def __init__(self, limit: int, clock: Clock, *, enforce: bool = True) -> None:
        self.limit = limit
        self.enforce = enforce
        self._clock = clock
        self._counts: dict[tuple[str, date], int] = defaultdict(int)
        self._lock = threading.Lock()

    def hit(self, key: str) -> tuple[bool, int]:
        day = self._clock.now().date()
        with self._lock:
            used = self._counts[(key, day)]
            if self.enforce and used >= self.limit:
                return False, 0
            self._counts[(key, day)] = used + 1
            return True, max(0, self.limit - used - 1)

    def used(self, key: str) -> int:
        """Hits of ``key`` counted today."""
        with self._lock:
            return self._counts[(key, self._clock.now().date())]

    def use_up(self, key: str, leave: int = 0) -> None:
        """Make today's count of ``key`` reach the limit but for ``leave`` hits, and enforce it."""
        with self._lock:
            self.enforce = True
            self._counts[(key, self._clock.now().date())] = max(0, self.limit - leave)

    def reset(self) -> None:
        with self._lock:
            self._counts.clear()


__all__ = ["DailyCounter", "RollingWindow"]
