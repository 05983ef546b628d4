"""Waiting for a vendor's asynchronous job (Zendesk's ``update_many``), bounded and on the gate's clock.

:func:`poll` reads the job's status through the gate until it is done, sleeping with the gate's
``wait`` (simulated in tests, so nothing really sleeps) between reads that grow from ``interval`` to
``max_interval``, and gives up at ``timeout`` seconds of the gate's clock with a retryable
``ApiError``: the writes it waited for are retried by the next run, never assumed done.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import TypeVar

from onboard_sync.connector import ApiCaller
from onboard_sync.errors import ApiError

J = TypeVar("J")


def poll(
    call: ApiCaller,
    read: Callable[[], J],
    done: Callable[[J], bool],
    *,
    first: J,
    what: str,
    timeout: float = 60.0,
    interval: float = 0.2,
    max_interval: float = 2.0,
) -> J:
    """``first`` once ``done``, else ``read()`` (a gated call) again until it is; at most ``timeout`` s
    of the gate's clock and never more reads than ``timeout / interval`` (a clock that stands still
    cannot make it spin)."""
    job = first
    deadline = call.monotonic() + timeout
    pause = interval
    for _ in range(math.ceil(timeout / interval)):
        if done(job) or call.monotonic() >= deadline:
            break
        call.wait(pause)
        pause = min(max_interval, pause * 2)
        job = read()
    if not done(job):
        raise ApiError(f"{what} did not finish within {timeout:g} s", status=0, retryable=True)
    return job


__all__ = ["poll"]
