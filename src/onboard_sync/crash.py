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
import threading
from collections import Counter

CRASH_ENV = "ONBOARD_SYNC_CRASH_AT"
_seen: Counter[str] = Counter()
_lock = threading.Lock()

POINTS = (
    "before-call",  # any API call (gate), before the request; "before-call#7": the 7th call of the run
    "after-call",  # any API call, its answer received, before the caller acts on it
    "before-recover-record",  # PENDING keys looked up in the CRM, before their outcome is committed
    "after-recover-record",
    "before-state-record",  # evaluations done, before onboardings/transitions are committed
    "after-state-record",
    "before-intents",  # before the write-ahead PENDING task intents are committed
    "after-intents",
    "before-task-create",
    "after-task-create",  # the CRM has the batch, the store does not yet (before its commit)
    "after-task-record",
    "before-task-update",  # completing the tasks of cleared alerts (close_when_cleared)
    "after-task-update",  # the CRM has completed them, the store does not know yet
    "before-field-write",
    "after-field-write",  # before the field-write commit
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
    point, _, nth = target.partition("#")
    if point != name:
        return
    with _lock:  # batch calls may run in several threads
        _seen[name] += 1
        seen = _seen[name]
    if not nth or int(nth) == seen:
        os.kill(os.getpid(), signal.SIGKILL)
