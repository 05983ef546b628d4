"""The Salesforce sandbox's ASGI app: the shared middleware stack with Salesforce's hooks.

Stack for every request: request log -> injected latency -> URI and header size (414 past 16,384
bytes of URI, 431 past 16,384 of URI and headers, as Salesforce) -> route match (``routes.py``) ->
armed faults (rendered as Salesforce error arrays) -> Bearer session check (401
``INVALID_SESSION_ID``) -> daily API limit (403 ``REQUEST_LIMIT_EXCEEDED``) -> Salesforce error
bodies -> handler (``responses.py``); every counted request's answer, errors included, carries the
``Sforce-Limit-Info`` header. Built by ``SalesforceSandbox``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from onboard_sync.sandbox.faults import Failure
from onboard_sync.sandbox.middleware import (
    Authentication,
    AuthRefusal,
    Credential,
    Faults,
    Latency,
    LimitPolicy,
    Next,
    RateLimits,
    Reply,
    RequestLogging,
    Routing,
    SimRequest,
    SimulatorApp,
    VendorErrors,
    log_crash,
)
from onboard_sync.sandbox.salesforce.backend import SfError
from onboard_sync.sandbox.salesforce.responses import Call
from onboard_sync.sandbox.salesforce.routes import DAILY, ROUTES, TOKEN

if TYPE_CHECKING:
    from onboard_sync.sandbox.salesforce.sandbox import SalesforceSandbox

FAULT_CODES = {
    400: ("MALFORMED_QUERY", "unexpected token (injected fault)"),
    401: ("INVALID_SESSION_ID", "Session expired or invalid"),
    403: ("REQUEST_LIMIT_EXCEEDED", "TotalRequests Limit exceeded."),
    404: ("NOT_FOUND", "The requested resource does not exist"),
    500: ("UNKNOWN_EXCEPTION", "An unexpected error occurred. Please include this ErrorId if you contact support"),
    503: ("SERVER_UNAVAILABLE", "Server temporarily unavailable"),
}
MAX_REQUEST_HEAD = 16_384
"""Salesforce's limit on a REST request's URI (414 URI Too Long past it), and on URI and headers together
(431 Request Header Fields Too Large)."""


class RequestHeadLimit:
    """A Salesforce-only stage: 414 when the URI passes 16,384 bytes, 431 when URI and headers do."""

    async def __call__(self, request: SimRequest, call_next: Next) -> Reply:
        scope = request.scope
        uri = len(scope.get("raw_path") or b"") + len(scope.get("query_string") or b"") + 1
        if uri > MAX_REQUEST_HEAD:
            request.template = "too-long"
            return Reply(414)
        headers = sum(len(k) + len(v) + 4 for k, v in scope.get("headers") or ())
        if uri + headers > MAX_REQUEST_HEAD:
            request.template = "too-long"
            return Reply(431)
        return await call_next(request)


def no_route(request: SimRequest, other_method: bool) -> Reply:
    request.template = "unknown"
    return Reply(404, [{"errorCode": "NOT_FOUND", "message": "The requested resource does not exist"}])


def injected(failure: Failure, request: SimRequest) -> Reply:
    code, message = FAULT_CODES.get(failure.status, ("UNKNOWN_EXCEPTION", "injected fault"))
    headers = {"Retry-After": str(int(failure.retry_after))} if failure.retry_after else {}
    return Reply(failure.status, [{"message": message, "errorCode": code}], headers)


def refuse(request: SimRequest, refusal: AuthRefusal) -> Reply:
    return Reply(401, [{"message": "Session expired or invalid", "errorCode": "INVALID_SESSION_ID"}])


def render_error(request: SimRequest, exc: Exception) -> Reply:
    if not isinstance(exc, SfError):  # a sandbox bug: answer as Salesforce would, and say what broke
        log_crash("salesforce", request, exc)
        exc = SfError(500, "UNKNOWN_EXCEPTION", f"sandbox error: {type(exc).__name__}: {exc}")
    return Reply(exc.status, exc.body())


def salesforce_app(sb: SalesforceSandbox) -> SimulatorApp:
    """The app serving ``sb``: the shared stages, each given Salesforce's hook."""

    def check(request: SimRequest) -> Credential | AuthRefusal:
        header = request.headers.get("authorization", "")
        token = header[7:] if header.lower().startswith("bearer ") else ""
        if not token or not sb.sessions.valid(token):
            return AuthRefusal("invalid")
        return Credential(token, "session")

    def usage_header(request: SimRequest, reply: Reply | None = None) -> dict[str, str]:
        return {"Sforce-Limit-Info": f"api-usage={sb.usage()}/{sb.daily_limit}"}

    def limited(request: SimRequest, policy: LimitPolicy) -> Reply:
        body = [{"message": "TotalRequests Limit exceeded.", "errorCode": "REQUEST_LIMIT_EXCEEDED"}]
        return Reply(403, body, usage_header(request))

    def respond(request: SimRequest) -> Reply:
        assert request.route is not None
        status, body = request.route.handler(sb, Call.of(request, json_body=request.route is not TOKEN))
        return Reply(status, body)

    stages = [
        RequestLogging(sb.requests, sb.clock),
        Latency(lambda: sb.latency),
        RequestHeadLimit(),
        Routing(ROUTES, no_route),
        Faults(sb.faults, injected),
        Authentication(check, refuse, sb.faults),
        RateLimits({DAILY: LimitPolicy(DAILY, sb.daily)}, limited, usage_header),
        VendorErrors(render_error),
    ]
    return SimulatorApp(stages, respond)


__all__ = ["MAX_REQUEST_HEAD", "salesforce_app"]
