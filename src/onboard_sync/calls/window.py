"""A rolling-window rate limiter: at most N calls in any W seconds, counted as the server counts.

HubSpot allows 100 requests per *rolling* 10 seconds. A token bucket of 10/s with a burst of
10 stays under that but wastes it: while the engine evaluates (no calls), the bucket fills to
10 and no further, so the writes that follow trickle out at 10/s although 100 may go at once.
:class:`RollingWindowLimiter` admits a call while fewer than N calls are in flight or finished within
the last W seconds. A call is stamped when its answer arrives (an upper bound of when the server
counted it), so however the network delays requests the server never sees N + 1 in a window: when
the connector says so (``ApiGate.answered``, before it parses the answer), else when the call returns.
A free slot goes to a call that waits before a background one (:mod:`onboard_sync.calls.priority`).
The gate (:mod:`onboard_sync.calls.gate`) uses it when a connector's ``RateLimit`` has a ``window``.
"""

from __future__ import annotations

import bisect
import threading
import time
from collections.abc import Callable

from onboard_sync.calls.priority import Turns
from onboard_sync.connector import RateLimit

POLL = 0.005
"""Seconds to wait when only in-flight calls fill the window (their end is not known yet)."""


class RollingWindowLimiter:
    """Thread-safe; ``acquire`` before a call, ``release`` after it (success or not)."""

    def __init__(
        self,
        limit: RateLimit,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if not limit.window or limit.burst < 1:
            raise ValueError("a rolling window needs window > 0 and burst >= 1")
        self.limit = limit
        self.size = limit.burst
        self.window = float(limit.window)
        self._clock = clock
        self._sleep = sleep
        self._ends: list[float] = []  # sorted end stamps of calls still inside the window
        self._in_flight = 0
        self._blocked_until = 0.0
        self._lock = threading.Lock()
        self._turns = Turns(self._lock)

    def _prune(self, now: float) -> None:
        cut = bisect.bisect_right(self._ends, now - self.window)
        if cut:
            del self._ends[:cut]

    def acquire(self, *, background: bool = False) -> float:
        """Take a slot, sleeping until one is free; returns the seconds slept. A ``background`` call
        leaves a free slot to any other call waiting for one (``calls.priority``)."""
        return self._turns.take(background=background, free_in=self._free_in, claim=self._claim, sleep=self._sleep)

    def _free_in(self) -> float:
        now = self._clock()
        self._prune(now)
        if now < self._blocked_until:
            return self._blocked_until - now
        if self._in_flight + len(self._ends) < self.size:
            return 0.0
        if self._ends:
            return max(self._ends[0] + self.window - now, 1e-3)
        return POLL

    def _claim(self) -> None:
        self._in_flight += 1

    def release(self, at: float | None = None) -> None:
        """A call ended; ``at``: when its answer arrived, if the connector said so (``ApiGate.answered``)."""
        with self._lock:
            now = self._clock()
            self._in_flight = max(0, self._in_flight - 1)
            bisect.insort(self._ends, now if at is None else min(at, now))

    def pause(self, seconds: float) -> None:
        """After a 429: admit nothing for ``seconds``."""
        with self._lock:
            self._blocked_until = max(self._blocked_until, self._clock() + seconds)

    @property
    def used(self) -> int:
        """Calls in flight or within the window now."""
        with self._lock:
            self._prune(self._clock())
            return self._in_flight + len(self._ends)
