"""Zendesk sandbox responses: each handler reads a request, calls the backend, answers in Zendesk's shape.

Handlers take the sandbox and a :class:`~onboard_sync.sandbox.middleware.SimRequest` (path
parameters in ``request.params``) and return a :class:`~onboard_sync.sandbox.middleware.Reply`;
``routes.py`` maps URLs to them and ``app.py`` serves them behind the shared middleware. A refused
request raises :class:`ZendeskHTTPError`, which the app renders.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Callable
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from onboard_sync.sandbox.middleware import Reply, SimRequest
from onboard_sync.sandbox.zendesk.backend import decode_cursor, encode_cursor, epoch

if TYPE_CHECKING:
    from onboard_sync.sandbox.zendesk.sandbox import ZendeskSandbox

Handler = Callable[["ZendeskSandbox", SimRequest], Reply]
MAX_EXPORT_PAGE = 1000
MAX_PAGE = 100


class ZendeskHTTPError(Exception):
    def __init__(self, status: int, body: dict[str, Any], headers: dict[str, str] | None = None) -> None:
        self.status, self.body, self.headers = status, body, headers or {}


def _not_found() -> ZendeskHTTPError:
    return ZendeskHTTPError(404, {"error": "RecordNotFound", "description": "Not found"})


def _bad(title: str, code: str = "InvalidParameter") -> ZendeskHTTPError:
    return ZendeskHTTPError(400, {"errors": [{"code": code, "title": title}]})


# --- handlers ---------------------------------------------------------------------------------
def export_cursor(kind: str) -> Handler:
    """``/incremental/{kind}/cursor``: ``start_time`` (>= 1 minute old) first, then ``cursor``."""

    def handle(sb: ZendeskSandbox, req: SimRequest) -> Reply:
        q = req.query
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
            "after_url": f"{req.base_url}{req.path}?{urlencode({'cursor': cursor})}",
            "before_cursor": None,
            "before_url": None,
            "end_of_stream": len(rows) <= per_page,
        }
        if kind == "tickets" and "metric_sets" in q.get("include", ""):
            body["metric_sets"] = [sb.backend.metrics[t["id"]] for t in page if t["id"] in sb.backend.metrics]
        return Reply(200, body)

    return handle


def export_time(kind: str) -> Handler:
    """``/incremental/{kind}`` (time-based): ``end_time`` and ``next_page`` start at the last item."""

    def handle(sb: ZendeskSandbox, req: SimRequest) -> Reply:
        q = req.query
        if "start_time" not in q:
            raise _bad("start_time is required")
        start = _start_time(sb, q["start_time"])
        per_page = min(int(q.get("per_page", MAX_EXPORT_PAGE)), MAX_EXPORT_PAGE)
        rows = sb.backend.export_window(kind, (start, -1))
        page = rows[:per_page]
        end_time = page[-1]["generated_timestamp"] if page else start
        return Reply(
            200,
            {
                kind: page,
                "count": len(page),
                "end_of_stream": len(rows) <= per_page,
                "end_time": end_time,
                "next_page": f"{req.base_url}{req.path}?{urlencode({'start_time': end_time, 'per_page': per_page})}",
            },
        )

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

    def handle(sb: ZendeskSandbox, req: SimRequest) -> Reply:
        q = req.query
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
        nxt = f"{req.base_url}{req.path}?{urlencode({'page[size]': size, 'page[after]': after_cursor})}"
        return Reply(
            200,
            {
                kind: page,
                "meta": {"has_more": more, "after_cursor": after_cursor, "before_cursor": None},
                "links": {"next": nxt if more else None, "prev": None},
            },
        )

    return handle


def show_many_tickets(sb: ZendeskSandbox, req: SimRequest) -> Reply:
    """``/tickets/show_many?ids=1,2,3`` (at most 100; unknown ids are left out), ``include=metric_sets``."""
    raw = [part for part in req.query.get("ids", "").split(",") if part.strip()]
    if not raw or len(raw) > MAX_PAGE:
        raise _bad(f"ids must list 1 to {MAX_PAGE} ticket ids")
    try:
        ids = [int(part) for part in raw]
    except ValueError:
        raise _bad("ids must be integers") from None
    backend = sb.backend
    with backend.lock:
        tickets = [dict(backend.tickets[i]) for i in dict.fromkeys(ids) if i in backend.tickets]
        body: dict[str, Any] = {"tickets": tickets, "next_page": None, "previous_page": None, "count": len(tickets)}
        if "metric_sets" in req.query.get("include", ""):
            body["metric_sets"] = [dict(backend.metrics[t["id"]]) for t in tickets if t["id"] in backend.metrics]
    return Reply(200, body)


def show_org(sb: ZendeskSandbox, req: SimRequest) -> Reply:
    org = sb.backend.organizations.get(int(req.params["id"]))
    if org is None:
        raise _not_found()
    return Reply(200, {"organization": org})


def _json(req: SimRequest) -> Any:
    try:
        return json.loads(req.body or b"{}")
    except ValueError:
        raise _bad("body is not JSON") from None


def update_org(sb: ZendeskSandbox, req: SimRequest) -> Reply:
    body = _json(req)
    rid = int(req.params["id"])
    if rid not in sb.backend.organizations:
        raise _not_found()
    return Reply(200, {"organization": sb.backend.update_organization(rid, dict(body.get("organization") or {}))})


def update_many_orgs(sb: ZendeskSandbox, req: SimRequest) -> Reply:
    body = _json(req)
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
        "url": f"{req.base_url}/api/v2/job_statuses/{job_id}.json",
        "results": results,
    }
    sb.backend.jobs[job_id] = job
    return Reply(200, {"job_status": {**job, "status": "queued", "results": None}})


def job_status(sb: ZendeskSandbox, req: SimRequest) -> Reply:
    job = sb.backend.jobs.get(req.params["id"])
    if job is None:
        raise _not_found()
    return Reply(200, {"job_status": job})


def ticket_metric(sb: ZendeskSandbox, req: SimRequest) -> Reply:
    metric = sb.backend.metrics.get(int(req.params["id"]))
    if metric is None:
        raise _not_found()
    return Reply(200, {"ticket_metric": metric})


def me(sb: ZendeskSandbox, req: SimRequest) -> Reply:
    return Reply(200, {"user": {"id": 1, "name": "Sandbox Admin", "email": sb.email, "role": "admin"}})


def list_org_fields(sb: ZendeskSandbox, req: SimRequest) -> Reply:
    fields = list(sb.backend.org_fields.values())
    return Reply(200, {"organization_fields": fields, "next_page": None, "count": 0})


def create_org_field(sb: ZendeskSandbox, req: SimRequest) -> Reply:
    body = _json(req)
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
    return Reply(201, {"organization_field": field})


def oauth_tokens(sb: ZendeskSandbox, req: SimRequest) -> Reply:
    body = _json(req)
    token = sb.auth.grant(body)
    if token is None:
        raise ZendeskHTTPError(401, {"error": "invalid_client", "error_description": "Client authentication failed"})
    return Reply(201, token)


__all__ = ["MAX_EXPORT_PAGE", "MAX_PAGE", "ZendeskHTTPError"]
