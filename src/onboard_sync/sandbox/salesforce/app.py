"""The Salesforce sandbox's ASGI app: route table, per-request pipeline, and Salesforce's JSON shapes.

Pipeline for every request: injected latency -> URI and header size (414 past 16,384 bytes of URI,
431 past 16,384 of URI and headers, as Salesforce) -> route match -> armed faults (rendered as Salesforce
error arrays) -> Bearer session check (401 ``INVALID_SESSION_ID``) -> daily API limit (403
``REQUEST_LIMIT_EXCEEDED``) -> handler -> ``Sforce-Limit-Info`` header -> request log. Handlers call
:class:`~onboard_sync.sandbox.salesforce.backend.SalesforceBackend`; built by ``SalesforceSandbox``.
"""

from __future__ import annotations

import asyncio
import copy
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, unquote

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from onboard_sync.sandbox.common import RequestRecord, client_host
from onboard_sync.sandbox.salesforce.auth import OAuthError
from onboard_sync.sandbox.salesforce.backend import SfError, sf_id
from onboard_sync.sandbox.salesforce.schema import tooling_field

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
MAX_COLLECTION = 200
MAX_REQUEST_HEAD = 16_384
"""Salesforce's limit on a REST request's URI (414 URI Too Long past it), and on URI and headers together
(431 Request Header Fields Too Large)."""


@dataclass
class Call:
    """A parsed request handed to a handler."""

    method: str
    params: dict[str, str]
    query: dict[str, str]
    headers: dict[str, str]
    body: Any
    prefix: str
    path_template: str = ""


Handler = Callable[["SalesforceSandbox", Call], tuple[int, Any]]


def _pattern(template: str) -> re.Pattern[str]:
    body = re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", template)
    return re.compile(f"^{body}/?$")


# --- handlers -----------------------------------------------------------------------------------
def _versions(sb: SalesforceSandbox, call: Call) -> tuple[int, Any]:
    return 200, [{"label": "Winter '24", "url": f"/services/data/v{sb.api_version}", "version": sb.api_version}]


def _query(sb: SalesforceSandbox, call: Call) -> tuple[int, Any]:
    text = call.query.get("q")
    if not text:
        raise SfError(400, "MALFORMED_QUERY", "A query string has to be specified")
    options = call.headers.get("sforce-query-options", "")
    match = re.search(r"batchSize=(\d+)", options)
    size = max(200, min(2000, int(match.group(1)))) if match else None
    return 200, sb.backend.query(text, call.prefix, size)


def _query_more(sb: SalesforceSandbox, call: Call) -> tuple[int, Any]:
    return 200, sb.backend.query_more(call.params["locator"], call.prefix)


def _sobject(sb: SalesforceSandbox, name: str) -> str:
    found = sb.backend.schema.sobject(name)
    if found is None:
        raise SfError(404, "NOT_FOUND", "The requested resource does not exist")
    return found


def _global_describe(sb: SalesforceSandbox, call: Call) -> tuple[int, Any]:
    objects = [
        {
            "name": n,
            "label": n,
            "keyPrefix": None,
            "queryable": True,
            "createable": True,
            "urls": {"describe": f"{call.prefix}/sobjects/{n}/describe"},
        }
        for n in sb.backend.schema.objects
    ]
    return 200, {"encoding": "UTF-8", "maxBatchSize": 200, "sobjects": objects}


def _describe(sb: SalesforceSandbox, call: Call) -> tuple[int, Any]:
    return 200, sb.backend.schema.describe(_sobject(sb, call.params["sobject"]), call.prefix)


def _create(sb: SalesforceSandbox, call: Call) -> tuple[int, Any]:
    new_id = sb.backend.insert(_sobject(sb, call.params["sobject"]), _body(call), owner=sb.integration_user)
    return 201, {"id": new_id, "success": True, "errors": []}


def _body(call: Call) -> dict[str, Any]:
    if not isinstance(call.body, dict):
        raise SfError(400, "JSON_PARSER_ERROR", "Unexpected parameter encountered during deserialization")
    return call.body


def _record(sb: SalesforceSandbox, call: Call) -> tuple[int, Any]:
    sobject, record_id = _sobject(sb, call.params["sobject"]), call.params["id"]
    if call.method == "GET":
        return 200, sb.backend.retrieve(sobject, record_id, call.prefix)
    if call.method == "DELETE":
        sb.backend.delete(sobject, record_id)
        return 204, None
    sb.backend.update(sobject, record_id, _body(call))
    return 204, None


def _upsert(sb: SalesforceSandbox, call: Call) -> tuple[int, Any]:
    sobject = _sobject(sb, call.params["sobject"])
    new_id, created = sb.backend.upsert(sobject, call.params["field"], unquote(call.params["value"]), _body(call))
    return (201 if created else 200), {"id": new_id, "success": True, "errors": [], "created": created}


def _collection(sb: SalesforceSandbox, call: Call) -> tuple[int, Any]:
    body = _body(call)
    records = body.get("records")
    if not isinstance(records, list) or not records:
        raise SfError(400, "INVALID_FIELD", "records is required")
    if len(records) > MAX_COLLECTION:
        raise SfError(
            400,
            "EXCEEDED_ID_LIMIT",
            f"record limit reached. cannot submit more than {MAX_COLLECTION} records into this call",
        )
    all_or_none = bool(body.get("allOrNone"))
    ext_field = call.params.get("field")
    fail_every = sb.faults.take_partial(call.path_template) if call.method in ("POST", "PATCH") else None
    backend = sb.backend
    with backend.lock:
        backend.refuse_unknown_columns(records, call.params.get("sobject", ""))
        snapshot = copy.deepcopy(backend.records) if all_or_none else None
        results: list[dict[str, Any]] = []
        for index, raw in enumerate(records):
            try:
                if fail_every and (index + 1) % fail_every == 0:
                    raise SfError(
                        400, "UNABLE_TO_LOCK_ROW", "unable to obtain exclusive access to this record (injected fault)"
                    )
                if not isinstance(raw, dict):
                    raise SfError(400, "JSON_PARSER_ERROR", "record must be an object")
                sobject = _sobject(sb, (raw.get("attributes") or {}).get("type") or call.params.get("sobject", ""))
                values = {k: v for k, v in raw.items() if k not in ("attributes", "id", "Id")}
                if ext_field:
                    key = next((v for k, v in raw.items() if k.lower() == ext_field.lower()), None)
                    if key in (None, ""):
                        raise SfError(400, "MISSING_ARGUMENT", f"{ext_field} not specified", (ext_field,))
                    record_id, created = backend.upsert(sobject, ext_field, str(key), values)
                    results.append({"id": record_id, "success": True, "errors": [], "created": created})
                elif call.method == "POST":
                    if raw.get("id") or raw.get("Id"):
                        raise SfError(400, "INVALID_FIELD", "cannot specify Id in an insert call")
                    results.append(
                        {
                            "id": backend.insert(sobject, values, owner=sb.integration_user),
                            "success": True,
                            "errors": [],
                        }
                    )
                else:
                    record_id = str(raw.get("id") or raw.get("Id") or "")
                    if not record_id:
                        raise SfError(400, "MISSING_ARGUMENT", "Id not specified in an update call")
                    backend.update(sobject, record_id, values)
                    results.append({"id": record_id, "success": True, "errors": []})
            except SfError as exc:
                results.append({"success": False, "errors": [exc.record_error()]})
        if snapshot is not None and not all(r["success"] for r in results):
            backend.records = snapshot
            rolled = {
                "statusCode": "ALL_OR_NONE_OPERATION_ROLLED_BACK",
                "message": "Record rolled back because "
                "not all records were valid and the request was using AllOrNone header",
                "fields": [],
            }
            results = [r if not r["success"] else {"success": False, "errors": [rolled]} for r in results]
    return 200, results


def _collection_get(sb: SalesforceSandbox, call: Call) -> tuple[int, Any]:
    sobject = _sobject(sb, call.params["sobject"])
    ids = [i for i in call.query.get("ids", "").split(",") if i]
    fields = [f for f in call.query.get("fields", "").split(",") if f]
    out: list[Any] = []
    for record_id in ids:
        try:
            record = sb.backend.retrieve(sobject, record_id, call.prefix)
        except SfError:
            out.append(None)
            continue
        out.append({k: v for k, v in record.items() if k == "attributes" or not fields or k in fields})
    return 200, out


def _limits(sb: SalesforceSandbox, call: Call) -> tuple[int, Any]:
    used = sb.usage()
    return 200, {"DailyApiRequests": {"Max": sb.daily_limit, "Remaining": max(0, sb.daily_limit - used)}}


def _tooling_field(sb: SalesforceSandbox, call: Call) -> tuple[int, Any]:
    if not sb.tooling_allowed:
        raise SfError(
            403,
            "INSUFFICIENT_ACCESS",
            "insufficient access rights on cross-reference id: the user lacks the Customize Application permission",
        )
    body = _body(call)
    try:
        sobject, definition = tooling_field(str(body.get("FullName") or ""), body.get("Metadata") or {})
    except ValueError as exc:
        raise SfError(400, "FIELD_INTEGRITY_EXCEPTION", str(exc)) from None
    schema = sb.backend.schema
    target = "Task" if sobject == "Activity" else schema.sobject(sobject)
    if target is None:
        raise SfError(400, "FIELD_INTEGRITY_EXCEPTION", f"no such object {sobject}")
    if schema.field(target, definition.name) is not None:
        raise SfError(
            400, "DUPLICATE_DEVELOPER_NAME", f"There is already a field named {definition.name} on {sobject}."
        )
    if target == "Task" and not sb.backend.task_external_id:
        from dataclasses import replace

        definition = replace(definition, external_id=False, unique=False)
    with sb.backend.lock:
        schema.add_custom_field(sobject if sobject == "Activity" else target, definition)
        for record in sb.backend.records[target].values():
            record.setdefault(definition.name, None)
    return 201, {"id": sf_id("00N", len(schema.fields(target))), "success": True, "errors": []}


ROUTES: list[tuple[str, str, Handler, bool]] = [
    ("GET", "/services/data", _versions, False),
    ("GET", "{P}/query", _query, True),
    ("GET", "{P}/queryAll", _query, True),
    ("GET", "{P}/query/{locator}", _query_more, True),
    ("GET", "{P}/queryAll/{locator}", _query_more, True),
    ("GET", "{P}/sobjects", _global_describe, True),
    ("GET", "{P}/sobjects/{sobject}/describe", _describe, True),
    ("POST", "{P}/sobjects/{sobject}", _create, True),
    ("GET", "{P}/sobjects/{sobject}/{id}", _record, True),
    ("PATCH", "{P}/sobjects/{sobject}/{id}", _record, True),
    ("DELETE", "{P}/sobjects/{sobject}/{id}", _record, True),
    ("PATCH", "{P}/sobjects/{sobject}/{field}/{value}", _upsert, True),
    ("POST", "{P}/composite/sobjects", _collection, True),
    ("PATCH", "{P}/composite/sobjects", _collection, True),
    ("PATCH", "{P}/composite/sobjects/{sobject}/{field}", _collection, True),
    ("GET", "{P}/composite/sobjects/{sobject}", _collection_get, True),
    ("GET", "{P}/limits", _limits, True),
    ("POST", "{P}/tooling/sobjects/CustomField", _tooling_field, True),
]
_P = r"/services/data/v(?P<version>\d+\.\d)"
COMPILED = [(m, _pattern(t.replace("{P}", "__P__")).pattern.replace("__P__", _P), t, h, a) for m, t, h, a in ROUTES]
COMPILED_RE = [(m, re.compile(p), t, h, a) for m, p, t, h, a in COMPILED]


def _json(status: int, body: Any, headers: dict[str, str] | None = None) -> Response:
    if status == 204 or body is None:
        return Response(status_code=status, headers=headers)
    return JSONResponse(body, status_code=status, headers=headers)


def _head_too_long(request: Request) -> int | None:
    """414 when the URI passes Salesforce's 16,384 bytes, 431 when URI and headers together do."""
    scope = request.scope
    uri = len(scope.get("raw_path") or b"") + len(scope.get("query_string") or b"") + 1
    if uri > MAX_REQUEST_HEAD:
        return 414
    headers = sum(len(k) + len(v) + 4 for k, v in scope.get("headers") or ())
    return 431 if uri + headers > MAX_REQUEST_HEAD else None


class SalesforceApp:
    """The ASGI callable (Starlette request/response objects, our own route table)."""

    def __init__(self, sandbox: SalesforceSandbox) -> None:
        self.sb = sandbox

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        request = Request(scope, receive)
        response = await self.handle(request)
        await response(scope, receive, send)

    async def handle(self, request: Request) -> Response:
        sb = self.sb
        received = sb.clock.now()
        if sb.latency:
            await asyncio.sleep(sb.latency)
        method, path = request.method, request.url.path
        raw = await request.body()
        too_long = _head_too_long(request)
        if too_long is not None:
            status, response, template = too_long, Response(status_code=too_long), "too-long"
        else:
            status, response, template = await self._dispatch(request, method, path, raw)
        client = client_host(request.scope)
        sb.requests.record(RequestRecord(method, path, template, status, sb.clock.now(), client, received))
        return response

    async def _dispatch(self, request: Request, method: str, path: str, raw: bytes) -> tuple[int, Response, str]:
        sb = self.sb
        if path.rstrip("/") == "/services/oauth2/token" and method == "POST":
            return self._token(request, raw)
        for route_method, regex, template, handler, needs_auth in COMPILED_RE:
            match = regex.match(path)
            if match is None or route_method != method:
                continue
            params = {k: v for k, v in match.groupdict().items() if k != "version"}
            failure = sb.faults.take_failure(method, path)
            if failure is not None:
                code, message = FAULT_CODES.get(failure.status, ("UNKNOWN_EXCEPTION", "injected fault"))
                headers = {"Retry-After": str(int(failure.retry_after))} if failure.retry_after else None
                return (
                    failure.status,
                    _json(failure.status, [{"message": message, "errorCode": code}], headers),
                    template,
                )
            if needs_auth:
                auth = request.headers.get("authorization", "")
                token = auth[7:] if auth.lower().startswith("bearer ") else ""
                if not token or not sb.sessions.valid(token):
                    body = [{"message": "Session expired or invalid", "errorCode": "INVALID_SESSION_ID"}]
                    return 401, _json(401, body), template
                allowed = sb.count_request()
                limit_header = {"Sforce-Limit-Info": f"api-usage={sb.usage()}/{sb.daily_limit}"}
                if not allowed:
                    body = [{"message": "TotalRequests Limit exceeded.", "errorCode": "REQUEST_LIMIT_EXCEEDED"}]
                    return 403, _json(403, body, limit_header), template
            else:
                limit_header = {}
            try:
                body = json.loads(raw) if raw else None
            except ValueError:
                err = SfError(400, "JSON_PARSER_ERROR", "Unexpected character: was expecting JSON")
                return 400, _json(400, err.body(), limit_header), template
            call = Call(
                method,
                params,
                dict(parse_qsl(request.url.query)),
                dict(request.headers),
                body,
                f"/services/data/v{match.group('version')}" if "version" in match.groupdict() else "",
                template,
            )
            try:
                status, payload = handler(sb, call)
            except SfError as exc:
                return exc.status, _json(exc.status, exc.body(), limit_header), template
            except Exception as exc:  # a sandbox bug: answer as Salesforce would, and say what broke
                err = SfError(500, "UNKNOWN_EXCEPTION", f"sandbox error: {type(exc).__name__}: {exc}")
                return 500, _json(500, err.body(), limit_header), template
            return status, _json(status, payload, limit_header), template
        body = [{"errorCode": "NOT_FOUND", "message": "The requested resource does not exist"}]
        return 404, _json(404, body), "unknown"

    def _token(self, request: Request, raw: bytes) -> tuple[int, Response, str]:
        sb = self.sb
        template = "/services/oauth2/token"
        form = dict(parse_qsl(raw.decode("utf-8", "replace")))
        try:
            sb.sessions.grant(form, request.headers.get("authorization"), sb.audiences)
        except OAuthError as exc:
            return 400, _json(400, {"error": exc.error, "error_description": exc.description}), template
        token = sb.sessions.issue()
        issued = str(int(sb.clock.now().timestamp() * 1000))
        body = {
            "access_token": token,
            "instance_url": sb.base_url,
            "id": f"{sb.base_url}/id/{sb.organization_id}/{sb.integration_user}",
            "token_type": "Bearer",
            "issued_at": issued,
            "signature": "c2FuZGJveA==",
            "scope": "api",
        }
        return 200, _json(200, body), template
