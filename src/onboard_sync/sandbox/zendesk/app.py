"""The Zendesk sandbox's ASGI app (Starlette): routes and the per-request pipeline.

Pipeline: injected latency -> route match (with or without ``.json``) -> armed faults -> auth
(Basic ``email/token:API_TOKEN`` or ``Bearer`` OAuth token) -> rate limits (account-wide per
minute; incremental exports 10 per minute) -> handler -> ``X-Rate-Limit`` headers -> request log.
Built by :class:`onboard_sync.sandbox.zendesk.sandbox.ZendeskSandbox`.
"""

from __future__ import annotations

import asyncio
import base64
import json
import re
import uuid
from collections.abc import Callable
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from onboard_sync.sandbox.common import RequestRecord, client_host
from onboard_sync.sandbox.zendesk.backend import decode_cursor, encode_cursor, epoch

if TYPE_CHECKING:
    from onboard_sync.sandbox.zendesk.sandbox import ZendeskSandbox

Handler = Callable[["ZendeskSandbox", Request, dict[str, str]], Any]
MAX_EXPORT_PAGE = 1000
MAX_PAGE = 100


class ZendeskHTTPError(Exception):
    def __init__(self, status: int, body: dict[str, Any], headers: dict[str, str] | None = None) -> None:
        self.status, self.body, self.headers = status, body, headers or {}


def _bad(title: str, code: str = "InvalidParameter") -> ZendeskHTTPError:
    return ZendeskHTTPError(400, {"errors": [{"code": code, "title": title}]})


# --- handlers ---------------------------------------------------------------------------------
def export_cursor(kind: str) -> Handler:
    """``/incremental/{kind}/cursor``: ``start_time`` (>= 1 minute old) first, then ``cursor``."""

    def handle(sb: ZendeskSandbox, req: Request, _: dict[str, str]) -> Any:
        q = req.query_params
        per_page = min(int(q.get("per_page", MAX_EXPORT_PAGE)), MAX_EXPORT_PAGE)
        if "cursor" in q:
            after = decode_cursor(q["cursor"])
            if after is None:
                raise _bad("cursor is not valid", "InvalidPaginationParameter")
        elif "start_time" in q:
            start = _start_time(sb, q["start_time"])
            after = (start, -1)
        else:
            raise _bad("start_time or cursor is required")
        rows = sb.backend.export_window(kind, after)
        page = rows[:per_page]
        last = (page[-1]["generated_timestamp"], page[-1]["id"]) if page else after
        cursor = encode_cursor(max(last[0], 0), max(last[1], 0))
        body: dict[str, Any] = {
            kind: page,
            "after_cursor": cursor,
            "after_url": f"{_base(req)}{req.url.path}?{urlencode({'cursor': cursor})}",
            "before_cursor": None,
            "before_url": None,
            "end_of_stream": len(rows) <= per_page,
        }
        if kind == "tickets" and "metric_sets" in q.get("include", ""):
            body["metric_sets"] = [sb.backend.metrics[t["id"]] for t in page if t["id"] in sb.backend.metrics]
        return body

    return handle


def export_time(kind: str) -> Handler:
    """``/incremental/{kind}`` (time-based): ``end_time`` and ``next_page`` start at the last item."""

    def handle(sb: ZendeskSandbox, req: Request, _: dict[str, str]) -> Any:
        q = req.query_params
        if "start_time" not in q:
            raise _bad("start_time is required")
        start = _start_time(sb, q["start_time"])
        per_page = min(int(q.get("per_page", MAX_EXPORT_PAGE)), MAX_EXPORT_PAGE)
        rows = sb.backend.export_window(kind, (start, -1))
        page = rows[:per_page]
        end_time = page[-1]["generated_timestamp"] if page else start
        return {
            kind: page,
            "count": len(page),
            "end_of_stream": len(rows) <= per_page,
            "end_time": end_time,
            "next_page": f"{_base(req)}{req.url.path}?{urlencode({'start_time': end_time, 'per_page': per_page})}",
        }

    return handle


def _start_time(sb: ZendeskSandbox, value: str) -> int:
    try:
        start = int(value)
    except ValueError:
        raise _bad("start_time must be a Unix epoch in seconds") from None
    if start > epoch(sb.clock.now()) - 60:
        raise _bad("start_time must be more than 60 seconds ago", "StartTimeTooRecent")
    return start


def listing(kind: str) -> Handler:
    """Cursor pagination: ``page[size]`` (max 100) and ``page[after]``; ``meta`` and ``links``."""

    def handle(sb: ZendeskSandbox, req: Request, _: dict[str, str]) -> Any:
        q = req.query_params
        size = min(int(q.get("page[size]", MAX_PAGE)), MAX_PAGE)
        rows = sb.backend.listing(kind)
        start = 0
        if q.get("page[after]"):
            after = decode_cursor(q["page[after]"])
            if after is None:
                raise _bad("page[after] is not valid", "InvalidPaginationParameter")
            start = next((i for i, r in enumerate(rows) if r["id"] > after[1]), len(rows))
        page = rows[start : start + size]
        more = start + size < len(rows)
        after_cursor = encode_cursor(0, page[-1]["id"]) if page else None
        nxt = f"{_base(req)}{req.url.path}?{urlencode({'page[size]': size, 'page[after]': after_cursor})}"
        return {
            kind: page,
            "meta": {"has_more": more, "after_cursor": after_cursor, "before_cursor": None},
            "links": {"next": nxt if more else None, "prev": None},
        }

    return handle


def show_org(sb: ZendeskSandbox, req: Request, p: dict[str, str]) -> Any:
    org = sb.backend.organizations.get(int(p["id"]))
    if org is None:
        raise ZendeskHTTPError(404, {"error": "RecordNotFound", "description": "Not found"})
    return {"organization": org}


async def _json(req: Request) -> Any:
    try:
        return json.loads(await req.body() or b"{}")
    except ValueError:
        raise _bad("body is not JSON") from None


def update_org(sb: ZendeskSandbox, req: Request, p: dict[str, str], body: Any) -> Any:
    rid = int(p["id"])
    if rid not in sb.backend.organizations:
        raise ZendeskHTTPError(404, {"error": "RecordNotFound", "description": "Not found"})
    return {"organization": sb.backend.update_organization(rid, dict(body.get("organization") or {}))}


def update_many_orgs(sb: ZendeskSandbox, req: Request, p: dict[str, str], body: Any) -> Any:
    items = body.get("organizations")
    if not isinstance(items, list) or not 0 < len(items) <= 100:
        raise ZendeskHTTPError(
            422,
            {
                "error": "RecordInvalid",
                "description": "Record validation errors",
                "details": {"organizations": []},
            },
        )
    results = []
    for item in items:
        rid = int(item.get("id", 0))
        if rid in sb.backend.organizations:
            sb.backend.update_organization(rid, {k: v for k, v in item.items() if k != "id"})
            results.append({"id": rid, "action": "update", "status": "Updated", "success": True})
        else:
            results.append({"id": rid, "action": "update", "success": False, "error": "RecordNotFound"})
    job_id = uuid.uuid4().hex
    job = {
        "id": job_id,
        "job_type": "bulk_update",
        "status": "completed",
        "progress": len(items),
        "total": len(items),
        "message": "Completed",
        "url": f"{_base(req)}/api/v2/job_statuses/{job_id}.json",
        "results": results,
    }
    sb.backend.jobs[job_id] = job
    return {"job_status": {**job, "status": "queued", "results": None}}


def job_status(sb: ZendeskSandbox, req: Request, p: dict[str, str]) -> Any:
    job = sb.backend.jobs.get(p["id"])
    if job is None:
        raise ZendeskHTTPError(404, {"error": "RecordNotFound", "description": "Not found"})
    return {"job_status": job}


def ticket_metric(sb: ZendeskSandbox, req: Request, p: dict[str, str]) -> Any:
    metric = sb.backend.metrics.get(int(p["id"]))
    if metric is None:
        raise ZendeskHTTPError(404, {"error": "RecordNotFound", "description": "Not found"})
    return {"ticket_metric": metric}


def me(sb: ZendeskSandbox, req: Request, p: dict[str, str]) -> Any:
    return {"user": {"id": 1, "name": "Sandbox Admin", "email": sb.email, "role": "admin"}}


def list_org_fields(sb: ZendeskSandbox, req: Request, p: dict[str, str]) -> Any:
    return {"organization_fields": list(sb.backend.org_fields.values()), "next_page": None, "count": 0}


def create_org_field(sb: ZendeskSandbox, req: Request, p: dict[str, str], body: Any) -> Any:
    spec = dict(body.get("organization_field") or {})
    key, kind = str(spec.get("key") or ""), str(spec.get("type") or "")
    if not re.fullmatch(r"[a-z0-9_]+", key) or kind not in ("text", "textarea", "decimal", "integer", "date"):
        raise ZendeskHTTPError(
            422, {"error": "RecordInvalid", "description": "Record validation errors", "details": {"key": []}}
        )
    if key in sb.backend.org_fields:
        raise ZendeskHTTPError(
            422,
            {
                "error": "RecordInvalid",
                "description": "Record validation errors",
                "details": {
                    "key": [
                        {
                            "description": "Key is already being used by another organization field",
                            "error": "DuplicateValue",
                        }
                    ]
                },
            },
        )
    field = {
        "id": 9000 + len(sb.backend.org_fields),
        "key": key,
        "type": kind,
        "title": spec.get("title") or key,
        "active": True,
    }
    sb.backend.org_fields[key] = field
    return {"organization_field": field}


def oauth_tokens(sb: ZendeskSandbox, req: Request, p: dict[str, str], body: Any) -> Any:
    token = sb.auth.grant(body)
    if token is None:
        raise ZendeskHTTPError(401, {"error": "invalid_client", "error_description": "Client authentication failed"})
    return token


ROUTES: list[tuple[str, str, Handler, bool]] = [
    ("GET", "/api/v2/incremental/tickets/cursor", export_cursor("tickets"), True),
    ("GET", "/api/v2/incremental/users/cursor", export_cursor("users"), True),
    ("GET", "/api/v2/incremental/organizations", export_time("organizations"), True),
    ("GET", "/api/v2/incremental/users", export_time("users"), True),
    ("GET", "/api/v2/organizations", listing("organizations"), False),
    ("GET", "/api/v2/users", listing("users"), False),
    ("GET", "/api/v2/tickets", listing("tickets"), False),
    ("GET", "/api/v2/ticket_metrics", listing("ticket_metrics"), False),
    ("GET", "/api/v2/tickets/{id}/metrics", ticket_metric, False),
    ("GET", "/api/v2/users/me", me, False),
    ("PUT", "/api/v2/organizations/update_many", update_many_orgs, False),
    ("GET", "/api/v2/organizations/{id}", show_org, False),
    ("PUT", "/api/v2/organizations/{id}", update_org, False),
    ("GET", "/api/v2/job_statuses/{id}", job_status, False),
    ("GET", "/api/v2/organization_fields", list_org_fields, False),
    ("POST", "/api/v2/organization_fields", create_org_field, False),
    ("POST", "/oauth/tokens", oauth_tokens, False),
]
_COMPILED = [
    (m, re.compile("^" + re.sub(r"\{(\w+)\}", r"(?P<\1>[^/.]+)", path) + r"(?:\.json)?/?$"), path, h, export)
    for m, path, h, export in ROUTES
]
_BODY = {update_org, update_many_orgs, oauth_tokens, create_org_field}


def _base(req: Request) -> str:
    return str(req.base_url).rstrip("/")


class ZendeskApp:
    """ASGI callable serving a :class:`ZendeskSandbox`."""

    def __init__(self, sandbox: ZendeskSandbox) -> None:
        self.sb = sandbox

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        req = Request(scope, receive)
        received = self.sb.clock.now()
        response, template = await self._handle(req)
        at, client = self.sb.clock.now(), client_host(scope)
        self.sb.requests.record(
            RequestRecord(req.method, req.url.path, template, response.status_code, at, client, received)
        )
        await response(scope, receive, send)

    async def _handle(self, req: Request) -> tuple[Response, str]:
        sb = self.sb
        if sb.latency:
            await asyncio.sleep(sb.latency)
        path = req.url.path
        for method, regex, template, handler, export in _COMPILED:
            match = regex.match(path)
            if match is None or method != req.method:
                continue
            try:
                failure = sb.faults.take_failure(req.method, path)
                if failure is not None:
                    headers = {"Retry-After": str(int(failure.retry_after))} if failure.retry_after else {}
                    raise ZendeskHTTPError(failure.status, _fault_body(failure.status), headers)
                if handler is not oauth_tokens:
                    self._authenticate(req)
                headers = self._rate_limit(export)
                if handler in _BODY:
                    result = handler(sb, req, match.groupdict(), await _json(req))  # type: ignore[call-arg]
                else:
                    result = handler(sb, req, match.groupdict())
                status = 201 if handler in (oauth_tokens, create_org_field) else 200
                return JSONResponse(result, status_code=status, headers=headers), template
            except ZendeskHTTPError as exc:
                return JSONResponse(exc.body, status_code=exc.status, headers=exc.headers), template
        return JSONResponse({"error": "InvalidEndpoint", "description": "Not found"}, status_code=404), path

    def _authenticate(self, req: Request) -> None:
        header = req.headers.get("authorization", "")
        sb = self.sb
        if header.startswith("Bearer ") and sb.auth.valid(header[7:]) and not sb.faults.is_revoked(header[7:]):
            return
        if header.startswith("Basic "):
            try:
                user, _, secret = base64.b64decode(header[6:]).decode().partition(":")
            except ValueError:
                user, secret = "", ""
            if user == f"{sb.email}/token" and secret == sb.api_token and not sb.faults.is_revoked(secret):
                return
        raise ZendeskHTTPError(401, {"error": "Couldn't authenticate you"})

    def _rate_limit(self, export: bool) -> dict[str, str]:
        sb = self.sb
        allowed, remaining = sb.limits.minute.hit("account")
        if not allowed:
            raise ZendeskHTTPError(
                429,
                {"error": "APIRateLimitExceeded"},
                {"Retry-After": str(sb.limits.minute.retry_after("account"))},
            )
        if export:
            ok, _ = sb.limits.export.hit("account")
            if not ok:
                wait = sb.limits.export.retry_after("account")
                raise ZendeskHTTPError(
                    429,
                    {"errors": [{"code": "TooManyRequests", "title": "Incremental export rate limit exceeded"}]},
                    {"Retry-After": str(wait)},
                )
        limit = str(sb.limits.minute.limit)
        return {"X-Rate-Limit": limit, "X-Rate-Limit-Remaining": str(remaining), "ratelimit-limit": limit}


def _fault_body(status: int) -> dict[str, Any]:
    if status == 429:
        return {"errors": [{"code": "TooManyRequests", "title": "Too many requests"}]}
    if status == 401:
        return {"error": "Couldn't authenticate you"}
    if status >= 500:
        return {"error": "ServiceUnavailable" if status == 503 else "InternalServerError"}
    return {"error": "InvalidRequest", "description": f"HTTP {status}"}


__all__ = ["ZendeskApp"]
