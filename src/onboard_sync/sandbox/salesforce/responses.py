"""Salesforce sandbox responses: each handler reads a request, calls the backend, answers in Salesforce's shape.

REST query and queryMore, describe, sObject create/read/update/delete/upsert, sObject Collections,
limits, the Tooling API's CustomField create, and the OAuth token endpoint. Handlers take the
sandbox and a parsed :class:`Call` and return ``(status, body)``; ``routes.py`` maps URLs to them
and ``app.py`` serves them behind the shared middleware. A refused request raises
:class:`~onboard_sync.sandbox.salesforce.backend.SfError`, which the app renders.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, unquote

from onboard_sync.sandbox.middleware import SimRequest
from onboard_sync.sandbox.salesforce.auth import OAuthError
from onboard_sync.sandbox.salesforce.backend import SfError, sf_id
from onboard_sync.sandbox.salesforce.schema import tooling_field

if TYPE_CHECKING:
    from onboard_sync.sandbox.salesforce.sandbox import SalesforceSandbox

MAX_COLLECTION = 200


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
    raw: bytes = b""

    @classmethod
    def of(cls, request: SimRequest, *, json_body: bool = True) -> Call:
        """The handler's view of a request; with ``json_body`` the body parsed (else 400 JSON_PARSER_ERROR)."""
        body = None
        if json_body and request.body:
            try:
                body = json.loads(request.body)
            except ValueError:
                raise SfError(400, "JSON_PARSER_ERROR", "Unexpected character: was expecting JSON") from None
        version = request.params.get("version")
        return cls(
            request.method,
            {k: v for k, v in request.params.items() if k != "version"},
            dict(parse_qsl(str(request.query))),
            dict(request.headers),
            body,
            f"/services/data/v{version}" if version else "",
            request.template,
            request.body,
        )


Handler = Callable[["SalesforceSandbox", Call], tuple[int, Any]]


# --- handlers -----------------------------------------------------------------------------------
def versions(sb: SalesforceSandbox, call: Call) -> tuple[int, Any]:
    return 200, [{"label": "Winter '24", "url": f"/services/data/v{sb.api_version}", "version": sb.api_version}]


def query(sb: SalesforceSandbox, call: Call) -> tuple[int, Any]:
    text = call.query.get("q")
    if not text:
        raise SfError(400, "MALFORMED_QUERY", "A query string has to be specified")
    options = call.headers.get("sforce-query-options", "")
    match = re.search(r"batchSize=(\d+)", options)
    size = max(200, min(2000, int(match.group(1)))) if match else None
    return 200, sb.backend.query(text, call.prefix, size)


def query_more(sb: SalesforceSandbox, call: Call) -> tuple[int, Any]:
    return 200, sb.backend.query_more(call.params["locator"], call.prefix)


def _sobject(sb: SalesforceSandbox, name: str) -> str:
    found = sb.backend.schema.sobject(name)
    if found is None:
        raise SfError(404, "NOT_FOUND", "The requested resource does not exist")
    return found


def global_describe(sb: SalesforceSandbox, call: Call) -> tuple[int, Any]:
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


def describe(sb: SalesforceSandbox, call: Call) -> tuple[int, Any]:
    return 200, sb.backend.schema.describe(_sobject(sb, call.params["sobject"]), call.prefix)


def create(sb: SalesforceSandbox, call: Call) -> tuple[int, Any]:
    new_id = sb.backend.insert(_sobject(sb, call.params["sobject"]), _body(call), owner=sb.integration_user)
    return 201, {"id": new_id, "success": True, "errors": []}


def _body(call: Call) -> dict[str, Any]:
    if not isinstance(call.body, dict):
        raise SfError(400, "JSON_PARSER_ERROR", "Unexpected parameter encountered during deserialization")
    return call.body


def record(sb: SalesforceSandbox, call: Call) -> tuple[int, Any]:
    sobject, record_id = _sobject(sb, call.params["sobject"]), call.params["id"]
    if call.method == "GET":
        return 200, sb.backend.retrieve(sobject, record_id, call.prefix)
    if call.method == "DELETE":
        sb.backend.delete(sobject, record_id)
        return 204, None
    sb.backend.update(sobject, record_id, _body(call))
    return 204, None


def upsert(sb: SalesforceSandbox, call: Call) -> tuple[int, Any]:
    sobject = _sobject(sb, call.params["sobject"])
    new_id, created = sb.backend.upsert(sobject, call.params["field"], unquote(call.params["value"]), _body(call))
    return (201 if created else 200), {"id": new_id, "success": True, "errors": [], "created": created}


def collection(sb: SalesforceSandbox, call: Call) -> tuple[int, Any]:
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


def collection_get(sb: SalesforceSandbox, call: Call) -> tuple[int, Any]:
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


def limits(sb: SalesforceSandbox, call: Call) -> tuple[int, Any]:
    used = sb.usage()
    return 200, {"DailyApiRequests": {"Max": sb.daily_limit, "Remaining": max(0, sb.daily_limit - used)}}


def create_custom_field(sb: SalesforceSandbox, call: Call) -> tuple[int, Any]:
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


def token(sb: SalesforceSandbox, call: Call) -> tuple[int, Any]:
    """``POST /services/oauth2/token``: the three grants; the body is a form, not JSON."""
    form = dict(parse_qsl(call.raw.decode("utf-8", "replace")))
    try:
        sb.sessions.grant(form, call.headers.get("authorization"), sb.audiences)
    except OAuthError as exc:
        return 400, {"error": exc.error, "error_description": exc.description}
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
    return 200, body


__all__ = ["MAX_COLLECTION", "Call", "Handler"]
