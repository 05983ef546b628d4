"""The request pipeline every simulator shares: an ASGI app running a stack of middleware stages.

:class:`SimulatorApp` turns each HTTP request into a :class:`SimRequest`, passes it down a list of
stages and sends the :class:`Reply` that comes back. A stage is ``async (request, call_next) ->
Reply``: it may answer itself (a fault, a refused token, a used-up limit) or call the next stage and
adjust the reply on the way out (rate-limit headers, the request log). The last step calls the
matched route's handler through ``respond``. The stages here do what every vendor needs:

* :class:`RequestLogging`: record method, path, route template, status, times and caller in a ``RequestLog``;
* :class:`Latency`: sleep before answering (``asyncio.sleep``, so concurrent clients overlap);
* :class:`Routing`: match the :class:`~onboard_sync.sandbox.routing.RouteTable` (404/405 otherwise);
* :class:`Faults`: consume a failure armed on the :class:`~onboard_sync.sandbox.faults.FaultInjector`;
* :class:`Authentication`: the vendor's token check, plus revocation through the fault injector;
* :class:`RateLimits`: the route's named :class:`LimitPolicy` counters, in order;
* :class:`VendorErrors`: exceptions from below rendered in the vendor's error shape.

What differs between vendors (error bodies, header names, how a token is read) comes in as hooks:
plain callables handed to the stages. Each vendor's ``app.py`` assembles its stack; the order is
the vendor's (Salesforce renders handler errors inside the limit stage, so its errors carry the
usage header; HubSpot's do not). Written here rather than on Starlette middleware because the
stages exchange parsed state (route, credential, limit outcomes) that Starlette would pass as scope
entries, and a handler returns a plain :class:`Reply`, which keeps vendor code free of ASGI.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from starlette.datastructures import Headers, QueryParams
from starlette.requests import Request
from starlette.responses import Response

from onboard_sync.sandbox.clock import Clock
from onboard_sync.sandbox.common import RequestLog, RequestRecord, client_host
from onboard_sync.sandbox.faults import Failure, FaultInjector
from onboard_sync.sandbox.ratelimit import DailyCounter, RollingWindow
from onboard_sync.sandbox.routing import Route, RouteTable

log = logging.getLogger(__name__)


@dataclass
class Reply:
    """What a handler or a stage answers: status, JSON body (``None``: empty) and extra headers."""

    status: int
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Credential:
    """Who a request authenticated as: the token it presented and a vendor-defined ``kind``."""

    token: str
    kind: str = ""


@dataclass(frozen=True, slots=True)
class AuthRefusal:
    """Why the vendor's token check refused: ``reason`` is missing, invalid or expired (with ``detail``)."""

    reason: str
    detail: str = ""


@dataclass
class SimRequest:
    """One request as the stages and handlers see it; stages fill in the lower fields as it descends."""

    method: str
    path: str
    query: QueryParams
    headers: Headers
    body: bytes
    base_url: str
    client: str | None = None
    route: Route | None = None
    params: dict[str, str] = field(default_factory=dict)
    template: str = ""
    """What the request log records: the route template (the raw path until routing sets it)."""
    credential: Credential | None = None
    limits: dict[str, int] = field(default_factory=dict)
    """Remaining requests per limit policy counted so far (for rate-limit headers)."""
    scope: dict[str, Any] = field(default_factory=dict, repr=False)
    """The ASGI scope, for stages that check the request as it came over the wire (raw path, sizes)."""

    def json(self) -> Any:
        """The JSON body (``ValueError`` on garbage: vendors render their own 400)."""
        return json.loads(self.body)

    def bearer_token(self) -> str | None:
        """The token of an ``Authorization: Bearer ...`` header (any case), else None."""
        header = self.headers.get("authorization", "")
        if not header.lower().startswith("bearer "):
            return None
        return header[7:].strip() or None


Next = Callable[[SimRequest], Awaitable[Reply]]


class Stage(Protocol):
    """One middleware stage of a :class:`SimulatorApp`."""

    async def __call__(self, request: SimRequest, call_next: Next) -> Reply: ...


class Latency:
    """Wait ``seconds()`` before the rest of the stack runs (read per request, so tests can change it)."""

    def __init__(self, seconds: Callable[[], float]) -> None:
        self.seconds = seconds

    async def __call__(self, request: SimRequest, call_next: Next) -> Reply:
        delay = self.seconds()
        if delay > 0:
            await asyncio.sleep(delay)
        return await call_next(request)


class RequestLogging:
    """Record every answered request in ``requests``: the clock's time when it came in (before the
    stages below, injected latency included) and when its answer was ready, and the caller's address."""

    def __init__(self, requests: RequestLog, clock: Clock) -> None:
        self.requests, self.clock = requests, clock

    async def __call__(self, request: SimRequest, call_next: Next) -> Reply:
        received = self.clock.now()
        reply = await call_next(request)
        template = request.template or request.path
        at = self.clock.now()
        self.requests.record(
            RequestRecord(request.method, request.path, template, reply.status, at, request.client, received)
        )
        return reply


class Routing:
    """Match the route table; ``not_found(request, method_not_allowed)`` answers unknown paths."""

    def __init__(self, table: RouteTable, not_found: Callable[[SimRequest, bool], Reply]) -> None:
        self.table, self.not_found = table, not_found

    async def __call__(self, request: SimRequest, call_next: Next) -> Reply:
        found, known = self.table.match(request.method, request.path)
        if found is None:
            return self.not_found(request, known)
        request.route, request.params, request.template = found.route, found.params, found.template
        return await call_next(request)


class Faults:
    """Fail the request if a failure is armed for it, rendered by ``render`` (``Retry-After`` is the
    renderer's choice: vendors format it differently)."""

    def __init__(self, injector: FaultInjector, render: Callable[[Failure, SimRequest], Reply]) -> None:
        self.injector, self.render = injector, render

    async def __call__(self, request: SimRequest, call_next: Next) -> Reply:
        if request.route is not None and not request.route.faults:
            return await call_next(request)
        failure = self.injector.take_failure(request.method, request.path)
        if failure is not None:
            return self.render(failure, request)
        return await call_next(request)


class Authentication:
    """Run the vendor's ``check`` on routes that need auth; a token revoked on the fault injector is
    refused like an invalid one. ``refuse`` renders a refusal."""

    def __init__(
        self,
        check: Callable[[SimRequest], Credential | AuthRefusal],
        refuse: Callable[[SimRequest, AuthRefusal], Reply],
        injector: FaultInjector | None = None,
    ) -> None:
        self.check, self.refuse, self.injector = check, refuse, injector

    async def __call__(self, request: SimRequest, call_next: Next) -> Reply:
        if request.route is not None and not request.route.auth:
            return await call_next(request)
        outcome = self.check(request)
        if isinstance(outcome, Credential) and self.injector is not None and self.injector.is_revoked(outcome.token):
            outcome = AuthRefusal("invalid")
        if isinstance(outcome, AuthRefusal):
            return self.refuse(request, outcome)
        request.credential = outcome
        return await call_next(request)


@dataclass
class LimitPolicy:
    """A named rate limit: a counter and the key a request counts under (``"account"`` by default)."""

    name: str
    counter: RollingWindow | DailyCounter
    key: Callable[[SimRequest], str] = lambda request: "account"


class RateLimits:
    """Count the request against each policy its route names, in order; the first refusal answers
    ``refused(request, policy)``. ``headers(request, reply)`` adds the vendor's limit headers to the
    replies from below when the request was counted at all. A name the route gives must be a key of
    ``policies``; a ``None`` value is a policy switched off (counted by nothing)."""

    def __init__(
        self,
        policies: Mapping[str, LimitPolicy | None],
        refused: Callable[[SimRequest, LimitPolicy], Reply],
        headers: Callable[[SimRequest, Reply], Mapping[str, str]] | None = None,
    ) -> None:
        self.policies, self.refused, self.headers = policies, refused, headers

    async def __call__(self, request: SimRequest, call_next: Next) -> Reply:
        for name in request.route.limits if request.route is not None else ():
            policy = self.policies[name]
            if policy is None:
                continue
            allowed, remaining = policy.counter.hit(policy.key(request))
            request.limits[name] = remaining
            if not allowed:
                return self.refused(request, policy)
        reply = await call_next(request)
        if self.headers is not None and request.limits:
            reply.headers.update(self.headers(request, reply))
        return reply


class VendorErrors:
    """Turn an exception from the stages below into the vendor's error reply (``render``)."""

    def __init__(self, render: Callable[[SimRequest, Exception], Reply]) -> None:
        self.render = render

    async def __call__(self, request: SimRequest, call_next: Next) -> Reply:
        try:
            return await call_next(request)
        except Exception as exc:
            return self.render(request, exc)


def call_handler(request: SimRequest) -> Reply:
    """The default last step: ``route.handler(request)``."""
    assert request.route is not None, "Routing must run before the handler"
    reply: Reply = request.route.handler(request)
    return reply


def compact_json(body: Any) -> str:
    """JSON without spaces, non-ASCII kept (as Starlette's ``JSONResponse``)."""
    return json.dumps(body, ensure_ascii=False, separators=(",", ":"))


def handlers_given(context: object) -> Callable[[SimRequest], Reply]:
    """A ``respond`` for handlers written ``handler(context, request)``: the simulator first, so a
    handler reaches its backend and faults (``sim.backend``, ``sim.faults``)."""

    def respond(request: SimRequest) -> Reply:
        assert request.route is not None, "Routing must run before the handler"
        reply: Reply = request.route.handler(context, request)
        return reply

    return respond


class SimulatorApp:
    """The ASGI app: ``stages`` in order, then ``respond(request)`` (default: the route's handler).

    ``media_type`` is the vendor's JSON content type; ``dumps`` its JSON spacing (compact by
    default); ``Reply(204)`` and ``body=None`` send an empty body.
    """

    def __init__(
        self,
        stages: Sequence[Stage],
        respond: Callable[[SimRequest], Reply] = call_handler,
        *,
        media_type: str = "application/json",
        dumps: Callable[[Any], str] = compact_json,
    ) -> None:
        self.dumps = dumps
        self.stages = list(stages)
        self.respond = respond
        self.media_type = media_type

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        http = Request(scope, receive)
        request = SimRequest(
            method=http.method,
            path=http.url.path,
            query=http.query_params,
            headers=http.headers,
            body=await http.body(),
            base_url=str(http.base_url).rstrip("/"),
            client=client_host(scope),
            template=http.url.path,
            scope=scope,
        )
        reply = await self.run(request)
        await self.render(reply)(scope, receive, send)

    async def run(self, request: SimRequest) -> Reply:
        """Pass ``request`` down the stages and return the reply (also usable without HTTP)."""

        async def step(index: int, current: SimRequest) -> Reply:
            if index == len(self.stages):
                return self.respond(current)
            return await self.stages[index](current, lambda nxt: step(index + 1, nxt))

        return await step(0, request)

    def render(self, reply: Reply) -> Response:
        if reply.status == 204 or reply.body is None:
            return Response(status_code=reply.status, headers=reply.headers)
        content = self.dumps(reply.body).encode()
        return Response(content, reply.status, headers=reply.headers, media_type=self.media_type)


def log_crash(vendor: str, request: SimRequest, exc: Exception) -> None:
    """Log a simulator bug with its traceback (the vendor still answers in its own 500 shape)."""
    log.error("%s sandbox failed on %s %s", vendor, request.method, request.path, exc_info=exc)


__all__ = [
    "AuthRefusal",
    "Authentication",
    "Credential",
    "Faults",
    "Latency",
    "LimitPolicy",
    "RateLimits",
    "Reply",
    "RequestLogging",
    "Routing",
    "SimRequest",
    "SimulatorApp",
    "Stage",
    "VendorErrors",
    "call_handler",
    "handlers_given",
    "log_crash",
]
