"""Calls that give way: a call made in the background takes a rate-limit turn only when no other call waits.

An incremental HubSpot run searches two chains of pages beside each other, both under search's
own limit (5 per second): the deal pages, which the account reads, the helpdesk's ticket search and
every chunk's evaluation wait for, and the owned-task pages, which only the writes at the end wait
for (the run needs all of them, in whatever order). The limiters admitted whichever waiting thread
woke first, so the ticket search waited behind several task pages for up to two seconds while the
evaluation it gates sat idle. Nothing is read more or sooner in total: the same calls fill the same
limit, only the order in which waiting calls are admitted changes.

:func:`in_background` wraps a read (the engine wraps the task pull's) so that every call it makes
on the thread that runs it is marked; :func:`is_background` is what the gate asks, and
:class:`Turns` is the limiters' wait for a turn, which counts the calls waiting that do not give
way. Written here rather than taken from a library: the limiters are this package's own, and the
mark must follow the call into the connector's code on the same thread.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable
from typing import ParamSpec, TypeVar

P = ParamSpec("P")
R = TypeVar("R")

GIVE_WAY_POLL = 0.002
"""Seconds a background call waits before it looks again while another call waits for the turn."""

_marked = threading.local()


def is_background() -> bool:
    """Whether calls made now on this thread are background calls (inside :func:`in_background`)."""
    return bool(getattr(_marked, "background", False))


def in_background(fn: Callable[P, R]) -> Callable[P, R]:
    """``fn`` whose gated calls, on whichever thread runs it, give way to calls not so marked."""

    @functools.wraps(fn)
    def run(*args: P.args, **kwargs: P.kwargs) -> R:
        before = is_background()
        _marked.background = True
        try:
            return fn(*args, **kwargs)
        finally:
            _marked.background = before

    return run


class Turns:
    """The wait for a turn that both limiters run (``calls.gate.TokenBucket``, ``calls.window``), and
    the count of the calls waiting in it that do not give way. Shares the limiter's lock."""

    def __init__(self, lock: threading.Lock) -> None:
        self.lock = lock
        self.waiting = 0

    def take(
        self,
        *,
        background: bool,
        free_in: Callable[[], float],
        claim: Callable[[], None],
        sleep: Callable[[float], None],
    ) -> float:
        """Sleep until a turn is free and this call may have it, then ``claim`` it; returns the seconds
        slept. ``free_in()`` (under the lock) says in how many seconds a turn frees (0 or less: now)."""
        waited = 0.0
        counted = False
        try:
            while True:
                with self.lock:
                    wait = free_in()
                    if wait <= 0:
                        if not background or self.waiting == 0:
                            self.waiting -= counted
                            counted = False
                            claim()
                            return waited
                        wait = GIVE_WAY_POLL
                    if not background and not counted:
                        self.waiting += 1
                        counted = True
                waited += wait
                sleep(wait)
        finally:
            if counted:  # interrupted while waiting
                with self.lock:
                    self.waiting -= 1
