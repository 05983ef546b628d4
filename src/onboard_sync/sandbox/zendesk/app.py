"""The Zendesk sandbox's ASGI app: the shared middleware stack with Zendesk's hooks.

Stack: request log -> injected latency -> route match (with or without ``.json``; an unknown path
or method is a 404) -> Zendesk error bodies -> armed faults -> auth (Basic ``email/token:API_TOKEN``
or ``Bearer`` OAuth token) -> rate limits (account-wide per minute; incremental exports 10 per
minute, 429 with ``Retry-After``) -> handler (``responses.py``) -> ``X-Rate-Limit`` headers.
Built by :class:`onboard_sync.sandbox.zendesk.sandbox.ZendeskSandbox`.
"""

from __future__ import annotations

import base64
from typing import TYPE_CHECKING, Any

from onboard_sync.sandbox.faults import Failure
from onboard_sync.sandbox.middleware import (
    Authentication,
    AuthRefusal,
    Credential,
    Faults,
    Latency,
    LimitPolicy,
    RateLimits,
    Reply,
    RequestLogging,
    Routing,
    SimRequest,
    SimulatorApp,
    VendorErrors,
    handlers_given,
    log_crash,
)
from onboard_sync.sandbox.ratelimit import RollingWindow
from onboard_sync.sandbox.zendesk.responses import ZendeskHTTPError
from onboard_sync.sandbox.zendesk.routes import EXPORT, MINUTE, ROUTES

if TYPE_CHECKING:
    from onboard_sync.sandbox.zendesk.sandbox import ZendeskSandbox


def fault_body(status: int) -> dict[str, Any]:
    """Zendesk's body for an injected failure with ``status``."""
    if status == 429:
        return {"errors": [{"code": "TooManyRequests", "title": "Too many requests"}]}
    if status == 401:
        return {"error": "Couldn't authenticate you"}
    if status >= 500:
        return {"error": "ServiceUnavailable" if status == 503 else "InternalServerError"}
    return {"error": "InvalidRequest", "description": f"HTTP {status}"}


def no_route(request: SimRequest, other_method: bool) -> Reply:
    return Reply(404, {"error": "InvalidEndpoint", "description": "Not found"})


def injected(failure: Failure, request: SimRequest) -> Reply:
    headers = {"Retry-After": str(int(failure.retry_after))} if failure.retry_after else {}
    return Reply(failure.status, fault_body(failure.status), headers)


def refuse(request: SimRequest, refusal: AuthRefusal) -> Reply:
    return Reply(401, {"error": "Couldn't authenticate you"})


def render_error(request: SimRequest, exc: Exception) -> Reply:
    if isinstance(exc, ZendeskHTTPError):
        return Reply(exc.status, exc.body, exc.headers)
    log_crash("zendesk", request, exc)  # a sandbox bug: still answer in the vendor's shape
    return Reply(500, fault_body(500))


def zendesk_app(sb: ZendeskSandbox) -> SimulatorApp:
    """The app serving ``sb``: the shared stages, each given Zendesk's hook."""

    def check(request: SimRequest) -> Credential | AuthRefusal:
        header = request.headers.get("authorization", "")
        if header.startswith("Bearer ") and sb.auth.valid(header[7:]):
            return Credential(header[7:], "oauth")
        if header.startswith("Basic "):
            try:
                user, _, secret = base64.b64decode(header[6:]).decode().partition(":")
            except ValueError:
                user, secret = "", ""
            if user == f"{sb.email}/token" and secret == sb.api_token:
                return Credential(secret, "api_token")
        return AuthRefusal("invalid")

    def limited(request: SimRequest, policy: LimitPolicy) -> Reply:
        assert isinstance(policy.counter, RollingWindow)
        retry = {"Retry-After": str(policy.counter.retry_after("account"))}
        if policy.name == EXPORT:
            title = "Incremental export rate limit exceeded"
            return Reply(429, {"errors": [{"code": "TooManyRequests", "title": title}]}, retry)
        return Reply(429, {"error": "APIRateLimitExceeded"}, retry)

    def limit_headers(request: SimRequest, reply: Reply) -> dict[str, str]:
        limit = str(sb.limits.minute.limit)
        remaining = str(request.limits[MINUTE])
        return {"X-Rate-Limit": limit, "X-Rate-Limit-Remaining": remaining, "ratelimit-limit": limit}

    policies = {
        MINUTE: LimitPolicy(MINUTE, sb.limits.minute),
        EXPORT: LimitPolicy(EXPORT, sb.limits.export),
    }
    stages = [
        RequestLogging(sb.requests, sb.clock),
        Latency(lambda: sb.latency),
        Routing(ROUTES, no_route),
        VendorErrors(render_error),
        Faults(sb.faults, injected),
        Authentication(check, refuse, sb.faults),
        RateLimits(policies, limited, limit_headers),
    ]
    return SimulatorApp(stages, handlers_given(sb))


__all__ = ["zendesk_app"]
