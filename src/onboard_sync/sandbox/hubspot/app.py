"""The HubSpot sandbox's ASGI app: the shared middleware stack with HubSpot's hooks.

Stack for every request: request log -> injected latency -> HubSpot error bodies -> route match
(``routes.py``) -> armed faults -> Bearer-token auth (private-app token or OAuth access token) ->
rate limits (ten-secondly per token, daily, search secondly) -> handler (``responses_*.py``), then
the ``X-HubSpot-RateLimit-*`` headers on the way out. Built by ``HubSpotSandbox``.
"""

from __future__ import annotations

import json
import uuid
from typing import TYPE_CHECKING, Any

from onboard_sync.sandbox.faults import Failure
from onboard_sync.sandbox.hubspot.errors import HubSpotError
from onboard_sync.sandbox.hubspot.routes import BURST, DAILY, ROUTES, SEARCH
from onboard_sync.sandbox.hubspot.wire import JSON_TYPE, Call
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
    log_crash,
)

if TYPE_CHECKING:
    from onboard_sync.sandbox.hubspot.sandbox import HubSpotSandbox

AUTH_MESSAGE = (
    "Authentication credentials not found. This API supports OAuth 2.0 authentication and you can find "
    "more details at https://developers.hubspot.com/docs/methods/auth/oauth-overview"
)
POLICY_NAMES = {BURST: "TEN_SECONDLY_ROLLING", DAILY: "DAILY", SEARCH: "SECONDLY"}


def _error(status: int, message: str, category: str, **extra: Any) -> Reply:
    return Reply(
        status,
        {
            "status": "error",
            "message": message,
            "correlationId": str(uuid.uuid4()),
            "category": category,
            **extra,
        },
    )


def rate_limited(policy: str) -> Reply:
    """HubSpot's 429 for ``policy`` (``TEN_SECONDLY_ROLLING``, ``SECONDLY`` or ``DAILY``)."""
    message = {
        "DAILY": "You have reached your daily limit.",
        "SECONDLY": "You have reached your secondly limit.",
    }.get(policy, "You have reached your ten_secondly_rolling limit.")
    return Reply(
        429,
        {
            "status": "error",
            "message": message,
            "errorType": "RATE_LIMIT",
            "correlationId": str(uuid.uuid4()),
            "policyName": policy,
            "requestId": str(uuid.uuid4()),
        },
    )


def fault_reply(status: int) -> Reply:
    """An injected failure in HubSpot's shape for ``status``."""
    if status == 429:
        return rate_limited("TEN_SECONDLY_ROLLING")
    if status == 401:
        return _error(401, AUTH_MESSAGE, "INVALID_AUTHENTICATION")
    messages = {
        500: "internal error",
        502: "Bad Gateway",
        503: "Service Unavailable",
        504: "Gateway Timeout",
        403: "This app hasn't been granted all required scopes to make this call.",
        423: "Locked",
    }
    category = {403: "MISSING_SCOPES", 423: "LOCKED"}.get(status, "INTERNAL_ERROR" if status >= 500 else "ERROR")
    return _error(status, messages.get(status, f"sandbox fault {status}"), category)


def no_route(request: SimRequest, other_method: bool) -> Reply:
    return _error(
        405 if other_method else 404,
        f"No route for {request.method} {request.path}",
        "METHOD_NOT_ALLOWED" if other_method else "OBJECT_NOT_FOUND",
    )


def injected(failure: Failure, request: SimRequest) -> Reply:
    reply = fault_reply(failure.status)
    if failure.retry_after is not None:
        reply.headers["Retry-After"] = f"{failure.retry_after:g}"
    return reply


def refuse_token(request: SimRequest, refusal: AuthRefusal) -> Reply:
    if refusal.reason == "expired":
        message = f"The OAuth token used to make this call expired {refusal.detail}."
        return _error(401, message, "EXPIRED_AUTHENTICATION")
    return _error(401, AUTH_MESSAGE, "INVALID_AUTHENTICATION")


def render_error(request: SimRequest, exc: Exception) -> Reply:
    if isinstance(exc, HubSpotError):
        return Reply(exc.status, exc.body())
    log_crash("hubspot", request, exc)  # a sandbox bug: still answer in the vendor's shape
    return _error(500, "internal error", "INTERNAL_ERROR")


def hubspot_app(sb: HubSpotSandbox) -> SimulatorApp:
    """The app serving ``sb``: the shared stages, each given HubSpot's hook."""

    def check_token(request: SimRequest) -> Credential | AuthRefusal:
        token = request.bearer_token()
        state, detail = sb.auth.check(token)
        if state != "ok" or token is None:
            return AuthRefusal(state, detail or "")
        return Credential(token, detail or "")

    def limit_headers(request: SimRequest, reply: Reply | None = None) -> dict[str, str]:
        """Ten-secondly headers, plus daily ones for private-app tokens (none on search routes)."""
        if BURST not in request.limits:
            return {}
        burst = sb.limits.burst
        headers = {
            "X-HubSpot-RateLimit-Interval-Milliseconds": str(int(burst.window * 1000)),
            "X-HubSpot-RateLimit-Max": str(burst.limit),
            "X-HubSpot-RateLimit-Remaining": str(request.limits[BURST]),
        }
        private = request.credential is not None and request.credential.kind == "private"
        if DAILY in request.limits and private:  # HubSpot sends no daily headers to OAuth apps
            headers["X-HubSpot-RateLimit-Daily"] = str(sb.limits.daily.limit)
            headers["X-HubSpot-RateLimit-Daily-Remaining"] = str(request.limits[DAILY])
        return headers

    def limited(request: SimRequest, policy: LimitPolicy) -> Reply:
        reply = rate_limited(POLICY_NAMES[policy.name])
        reply.headers.update(limit_headers(request))
        return reply

    def per_token(request: SimRequest) -> str:
        return request.credential.token if request.credential is not None else ""

    limits = sb.limits
    policies = {
        BURST: LimitPolicy(BURST, limits.burst, per_token),
        DAILY: LimitPolicy(DAILY, limits.daily, lambda request: "portal"),
        SEARCH: LimitPolicy(SEARCH, limits.search, lambda request: "portal") if limits.search else None,
    }
    stages = [
        RequestLogging(sb.requests, sb.clock),
        Latency(lambda: sb.latency),
        VendorErrors(render_error),
        Routing(ROUTES, no_route),
        Faults(sb.faults, injected),
        Authentication(check_token, refuse_token, sb.faults),
        RateLimits(policies, limited, limit_headers),
    ]

    def respond(request: SimRequest) -> Reply:
        assert request.route is not None
        reply: Reply = request.route.handler(sb, Call.of(request))
        return reply

    return SimulatorApp(stages, respond, media_type=JSON_TYPE, dumps=json.dumps)


__all__ = ["hubspot_app"]
