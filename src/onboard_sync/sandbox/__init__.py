"""Local CRM simulators served as real HTTP servers (moto is the model).

Shared parts live here, for the built-in simulators and for a plugin's: :mod:`.middleware` (the ASGI
app and its stages: latency, request log, routing, faults, auth, rate limits, vendor errors),
:mod:`.routing` (URL tables), :class:`SandboxClock` (injectable time), :class:`FaultInjector`,
:mod:`.ratelimit` (counters), :class:`ServerThread` (uvicorn in a background thread) and the request
log. Each vendor is a sub-package laid out like a moto service: ``backend.py`` (state and one method
per operation), ``responses*.py`` (request -> backend call -> vendor-shaped answer), ``routes.py``
(the URL table), ``app.py`` (the middleware stack with the vendor's hooks) and ``sandbox.py`` (the
facade that serves it). Used by the test suite, the demo, benchmarks, the pytest plugin and
``onboard-sync sandbox ...``.
"""

from onboard_sync.sandbox.clock import Clock, SandboxClock
from onboard_sync.sandbox.common import RequestLog, RequestRecord
from onboard_sync.sandbox.faults import FaultInjector
from onboard_sync.server_thread import ServerThread

__all__ = ["Clock", "FaultInjector", "RequestLog", "RequestRecord", "SandboxClock", "ServerThread"]
