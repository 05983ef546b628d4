"""calls/priority.py: a background call leaves a free rate-limit turn to a call that waits for one.

The incremental run's owned-task pages are background calls; the deal pages and the helpdesk's
ticket search, which the evaluation waits for, must not queue behind them for search's turns.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import pytest

from onboard_sync.calls.gate import ApiGate, TokenBucket
from onboard_sync.calls.priority import in_background, is_background
from onboard_sync.calls.window import RollingWindowLimiter
from onboard_sync.connector import RateLimit

TURN = 0.2
"""Seconds until the one turn frees again (the window, or the bucket's refill of one token)."""
LATE = 0.05
"""How much longer than asked the foreground waiter sleeps: it wakes after the background one."""


def _window(sleep: Callable[[float], None]) -> RollingWindowLimiter | TokenBucket:
    return RollingWindowLimiter(RateLimit(per_second=1 / TURN, burst=1, window=TURN), sleep=sleep)


def _bucket(sleep: Callable[[float], None]) -> RollingWindowLimiter | TokenBucket:
    return TokenBucket(RateLimit(per_second=1 / TURN, burst=1), sleep=sleep)


@pytest.mark.parametrize("make", [_window, _bucket], ids=["rolling window", "token bucket"])
def test_a_waiting_call_takes_the_free_turn_before_a_background_call_that_woke_first(
    make: Callable[[Callable[[float], None]], RollingWindowLimiter | TokenBucket],
) -> None:
    foreground = threading.current_thread  # the threads below are told apart by name

    def sleep(seconds: float) -> None:
        late = LATE if foreground().name == "foreground" else 0.0
        time.sleep(seconds + late)

    limiter = make(sleep)
    limiter.acquire()
    limiter.release()  # the one turn is used: the next frees after TURN
    order: list[str] = []

    def take(background: bool) -> None:
        limiter.acquire(background=background)
        order.append(threading.current_thread().name)
        limiter.release()

    behind = threading.Thread(target=take, args=(True,), name="background")
    waiting = threading.Thread(target=take, args=(False,), name="foreground")
    behind.start()
    time.sleep(0.02)
    waiting.start()
    behind.join(5)
    waiting.join(5)
    assert order == ["foreground", "background"]


def test_a_background_call_takes_a_free_turn_when_nothing_else_waits() -> None:
    limiter = RollingWindowLimiter(RateLimit(per_second=5, burst=5, window=1.0))
    started = time.monotonic()
    for _ in range(5):
        limiter.acquire(background=True)
        limiter.release()
    assert time.monotonic() - started < 0.5


def test_calls_made_inside_in_background_are_marked_on_their_own_thread_only() -> None:
    seen: dict[str, bool] = {}

    def read() -> None:
        seen["inside"] = is_background()
        other = threading.Thread(target=lambda: seen.__setitem__("other thread", is_background()))
        other.start()
        other.join()

    in_background(read)()
    seen["after"] = is_background()
    assert seen == {"inside": True, "other thread": False, "after": False}


def test_the_gate_asks_its_limiters_for_a_background_turn_inside_in_background() -> None:
    asked: list[bool] = []

    class Recording(TokenBucket):
        def acquire(self, *, background: bool = False) -> float:
            asked.append(background)
            return super().acquire(background=background)

    gate = ApiGate(None, RateLimit(per_second=100, burst=100))
    gate.bucket = Recording(RateLimit(per_second=100, burst=100))
    gate("deals.search", lambda: 1)
    in_background(lambda: gate("tasks.search", lambda: 1))()
    assert asked == [False, True]
