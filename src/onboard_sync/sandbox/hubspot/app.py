"""The HubSpot sandbox's ASGI app (Starlette): route table and the per-request pipeline.

Pipeline for every request: injected latency (``await asyncio.sleep``, so concurrent clients are
served concurrently) -> route match -> armed faults -> Bearer-token auth -> rate limits (ten-secondly
per token, daily, search secondly) -> handler -> rate-limit headers -> request log. Built by
``HubSpotSandbox``; the route handlers live in ``routes_objects.py`` and ``routes_meta.py``.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from onboard_sync.sandbox.common import RequestRecord, client_host
from onboard_sync.sandbox.hubspot import routes_assoc as assoc
from onboard_sync.sandbox.hubspot import routes_meta as meta
from onboard_sync.sandbox.hubspot import routes_objects as obj
from onboard_sync.sandbox.hubspot.errors import HubSpotError
from onboard_sync.sandbox.hubspot.wire import JSON_TYPE, Call, Reply

if TYPE_CHECKING:
    from onboard_sync.sandbox.hubspot.sandbox import HubSpotSandbox

log = logging.getLogger(__name__)
Handler = Callable[["HubSpotSandbox", Call], Reply]
KEEP = {"objectType", "fromObjectType", "toObjectType"}  # path parts kept verbatim in request templates
AUTH_MESSAGE = (
    "Authentication credentials not found. This API supports OAuth 2.0 authentication and you can find "
    "more details at https://developers.hubspot.com/docs/methods/auth/oauth-overview"
)


@dataclass(frozen=True)
class Endpoint:
    method: str
    pattern: str
    handler: Handler
    auth: bool = True
    search: bool = False

    @property
    def regex(self) -> re.Pattern[str]:
        return _compile(self.pattern)


_CACHE: dict[str, re.Pattern[str]] = {}


def _compile(pattern: str) -> re.Pattern[str]:
    if pattern not in _CACHE:
        body = re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", pattern.rstrip("/"))
        _CACHE[pattern] = re.compile(f"^{body}/?$")
    return _CACHE[pattern]


OBJ = "/crm/v3/objects/{objectType}"
A4 = "/crm/v4/associations/{fromObjectType}/{toObjectType}"
P = "/crm/v3/properties/{objectType}"
ENDPOINTS: list[Endpoint] = [
    Endpoint("POST", f"{OBJ}/search", obj.search, search=True),
    Endpoint("POST", f"{OBJ}/batch/read", obj.batch_read),
    Endpoint("POST", f"{OBJ}/batch/create", obj.batch_create),
    Endpoint("POST", f"{OBJ}/batch/update", obj.batch_update),
    Endpoint("POST", f"{OBJ}/batch/upsert", obj.batch_upsert),
    Endpoint("POST", f"{OBJ}/batch/archive", obj.batch_archive),
    Endpoint("GET", OBJ, obj.list_objects),
    Endpoint("POST", OBJ, obj.create_object),
    Endpoint("GET", f"{OBJ}/{{objectId}}", obj.get_object),
    Endpoint("PATCH", f"{OBJ}/{{objectId}}", obj.update_object),
    Endpoint("DELETE", f"{OBJ}/{{objectId}}", obj.archive_object),
    Endpoint(
        "PUT",
        f"{OBJ}/{{objectId}}/associations/{{toObjectType}}/{{toObjectId}}/{{associationTypeId}}",
        obj.associate_v3,
    ),
    Endpoint(
        "DELETE",
        f"{OBJ}/{{objectId}}/associations/{{toObjectType}}/{{toObjectId}}/{{associationTypeId}}",
        obj.dissociate_v3,
    ),
    Endpoint("POST", f"{A4}/batch/read", assoc.v4_batch_read),
    Endpoint("POST", f"{A4}/batch/create", assoc.v4_batch_create),
    Endpoint("POST", f"{A4}/batch/associate/default", assoc.v4_batch_default),
    Endpoint("POST", f"{A4}/batch/archive", assoc.v4_batch_archive),
    Endpoint(
        "PUT",
        "/crm/v4/objects/{fromObjectType}/{fromObjectId}/associations/default/{toObjectType}/{toObjectId}",
        assoc.v4_put_default,
    ),
    Endpoint(
        "PUT",
        "/crm/v4/objects/{objectType}/{objectId}/associations/{toObjectType}/{toObjectId}",
        assoc.v4_put_labelled,
    ),
    Endpoint(
        "DELETE",
        "/crm/v4/objects/{objectType}/{objectId}/associations/{toObjectType}/{toObjectId}",
        assoc.v4_delete,
    ),
    Endpoint("GET", "/crm/v4/objects/{objectType}/{objectId}/associations/{toObjectType}", assoc.v4_list),
    Endpoint("GET", "/crm/v3/owners/", meta.list_owners),
    Endpoint("GET", "/crm/v3/owners/{ownerId}", meta.get_owner),
    Endpoint("GET", f"{P}/groups", meta.list_groups),
    Endpoint("POST", f"{P}/groups", meta.create_group),
    Endpoint("GET", f"{P}/groups/{{groupName}}", meta.get_group),
    Endpoint("POST", f"{P}/batch/create", meta.batch_create_properties),
    Endpoint("POST", f"{P}/batch/read", meta.batch_read_properties),
    Endpoint("GET", P, meta.list_properties),
    Endpoint("POST", P, meta.create_property),
    Endpoint("GET", f"{P}/{{propertyName}}", meta.get_property),
    Endpoint("PATCH", f"{P}/{{propertyName}}", meta.update_property),
    Endpoint("DELETE", f"{P}/{{propertyName}}", meta.archive_property),
    Endpoint("GET", "/crm/v3/pipelines/{objectType}", meta.list_pipelines),
    Endpoint("GET", "/crm/v3/pipelines/{objectType}/{pipelineId}", meta.get_pipeline),
    Endpoint("GET", "/crm/v3/pipelines/{objectType}/{pipelineId}/stages", meta.get_pipeline),
    Endpoint("POST", "/oauth/v1/token", meta.oauth_token, auth=False),
    Endpoint("GET", "/account-info/v3/details", meta.account_details),
    Endpoint("POST", "/_sandbox/reset", meta.sandbox_reset, auth=False),
]


def match(method: str, path: str) -> tuple[Endpoint | None, dict[str, str], bool]:
    """(endpoint, path params, path known for another method)."""
    other = False
    for endpoint in ENDPOINTS:
        found = endpoint.regex.match(path)
        if found:
            if endpoint.method == method:
                return endpoint, found.groupdict(), True
            other = True
    return None, {}, other


def template_of(endpoint: Endpoint, params: dict[str, str]) -> str:
    out = endpoint.pattern
    for name, value in params.items():
        if name in KEEP:
            out = out.replace(f"{{{name}}}", value)
    return out


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


class HubSpotApp:
    """The request pipeline around the route handlers, bound to one sandbox."""

    def __init__(self, sb: HubSpotSandbox) -> None:
        self.sb = sb
        self.starlette = Starlette(
            routes=[Route("/{path:path}", self.handle, methods=["GET", "POST", "PUT", "PATCH", "DELETE"])]
        )

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        await self.starlette(scope, receive, send)

    async def handle(self, request: Request) -> Response:
        sb = self.sb
        received = sb.clock.now()
        if sb.latency > 0:
            await asyncio.sleep(sb.latency)
        method, path = request.method, request.url.path
        endpoint, params, known = match(method, path)
        template = template_of(endpoint, params) if endpoint else path
        raw = await request.body()
        try:
            if endpoint is None:
                reply = _error(
                    405 if known else 404,
                    f"No route for {method} {path}",
                    "METHOD_NOT_ALLOWED" if known else "OBJECT_NOT_FOUND",
                )
            else:
                reply = self._serve(endpoint, Call(method, path, params, request.query_params, raw), request)
        except HubSpotError as exc:
            reply = Reply(exc.status, exc.body())
        except Exception:  # a sandbox bug: still answer in the vendor's shape, and say so in the log
            log.exception("hubspot sandbox failed on %s %s", method, path)
            reply = _error(500, "internal error", "INTERNAL_ERROR")
        client = client_host(request.scope)
        sb.requests.record(RequestRecord(method, path, template, reply.status, sb.clock.now(), client, received))
        content = b"" if reply.status == 204 or reply.body is None else json.dumps(reply.body).encode()
        return Response(content, reply.status, headers=reply.headers, media_type=JSON_TYPE)

    def _serve(self, endpoint: Endpoint, call: Call, request: Request) -> Reply:
        sb = self.sb
        failure = sb.faults.take_failure(call.method, call.path)
        if failure is not None:
            reply = fault_reply(failure.status)
            if failure.retry_after is not None:
                reply.headers["Retry-After"] = f"{failure.retry_after:g}"
            return reply
        if not endpoint.auth:
            return endpoint.handler(sb, call)
        header = request.headers.get("authorization", "")
        token = header[7:].strip() if header.lower().startswith("bearer ") else None
        state, detail = sb.auth.check(token)
        if state == "ok" and token is not None and sb.faults.is_revoked(token):
            state = "invalid"
        if state == "expired":
            return _error(401, f"The OAuth token used to make this call expired {detail}.", "EXPIRED_AUTHENTICATION")
        if state != "ok":
            return _error(401, AUTH_MESSAGE, "INVALID_AUTHENTICATION")
        assert token is not None
        call.token = token
        limits = sb.limits
        headers: dict[str, str] = {}
        if endpoint.search:  # search has its own per-account limit and sends no rate-limit headers
            if limits.search is not None and not limits.search.hit("portal")[0]:
                return rate_limited("SECONDLY")
            if not limits.daily.hit("portal")[0]:
                return rate_limited("DAILY")
        else:
            ok, left = limits.burst.hit(token)
            headers = {
                "X-HubSpot-RateLimit-Interval-Milliseconds": str(int(limits.burst.window * 1000)),
                "X-HubSpot-RateLimit-Max": str(limits.burst.limit),
                "X-HubSpot-RateLimit-Remaining": str(left),
            }
            if not ok:
                reply = rate_limited("TEN_SECONDLY_ROLLING")
                reply.headers.update(headers)
                return reply
            daily_ok, daily_left = limits.daily.hit("portal")
            if detail == "private":  # HubSpot sends no daily headers to OAuth apps
                headers["X-HubSpot-RateLimit-Daily"] = str(limits.daily.limit)
                headers["X-HubSpot-RateLimit-Daily-Remaining"] = str(daily_left)
            if not daily_ok:
                reply = rate_limited("DAILY")
                reply.headers.update(headers)
                return reply
        reply = endpoint.handler(sb, call)
        reply.headers.update(headers)
        return reply


__all__ = ["ENDPOINTS", "Endpoint", "HubSpotApp", "match"]
