"""Named crash points for fault tests: ``ONBOARD_SYNC_CRASH_AT=after-task-create`` kills the process.

The engine calls ``crash_point(name)`` at the moments where a crash is most dangerous
(after a CRM write and before it is recorded, after a store commit, …). When the
environment variable names that point (optionally ``name#N`` for its N-th occurrence),
the process sends itself SIGKILL: no cleanup, no ``finally``, exactly like ``kill -9``.
The fault suite uses this to prove that recovery never loses or duplicates anything.
It costs one dictionary lookup when unset.
"""

from __future__ import annotations

import os
import signal
from collections import Counter

CRASH_ENV = "ONBOARD_SYNC_CRASH_AT"
_seen: Counter[str] = Counter()

POINTS = (
    "before-task-create",
    "after-task-create",
    "after-task-record",
    "after-field-write",
    "after-field-record",
    "before-cursor",
    "after-cursor",
    "after-inbox-ack",  # serve: the 2xx is sent, the events are in the inbox, not yet processed
)


def crash_point(name: str) -> None:
    """Die here (SIGKILL) if ``ONBOARD_SYNC_CRASH_AT`` says so."""
    target = os.environ.get(CRASH_ENV)
    if not target:
        return
    _seen[name] += 1
    point, _, nth = target.partition("#")
    if point == name and (not nth or int(nth) == _seen[name]):
        os.kill(os.getpid(), signal.SIGKILL)
