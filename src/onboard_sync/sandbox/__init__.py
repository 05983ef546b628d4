"""Local CRM simulators served as real HTTP servers (moto is the model).

Shared pieces live here: :class:`SandboxClock` (injectable time), :class:`FaultInjector`,
rate-limit counters, :class:`ServerThread` (uvicorn in a background thread) and the request log.
Each vendor dialect is a sub-package (``onboard_sync.sandbox.hubspot``). Used by the test suite, the
demo, benchmarks, the pytest plugin and ``onboard-sync sandbox ...``.
"""

from onboard_sync.sandbox.clock import Clock, SandboxClock
from onboard_sync.sandbox.common import RequestLog, RequestRecord
from onboard_sync.sandbox.faults import FaultInjector
from onboard_sync.sandbox.server import ServerThread

__all__ = ["Clock", "FaultInjector", "RequestLog", "RequestRecord", "SandboxClock", "ServerThread"]
