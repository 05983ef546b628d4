"""CRM object endpoints of the HubSpot sandbox (``/crm/v3/objects/{objectType}...``).

List, get, create, update, archive, the five batch operations, search and v3 association PUT/DELETE.
Handlers take the sandbox and a parsed :class:`~onboard_sync.sandbox.hubspot.wire.Call` and return a
:class:`~onboard_sync.sandbox.hubspot.wire.Reply` with HubSpot's exact status codes (201 create, 207
partial, 204 archive), registered in ``routes.py``.
"""

from __future__ import annotations

from bisect import bisect_left
from typing import TYPE_CHECKING, Any

from onboard_sync.sandbox.hubspot import schema as sch
from onboard_sync.sandbox.hubspot.errors import HubSpotError, property_errors, validation_error
from onboard_sync.sandbox.hubspot.models import PreparedWrite
from onboard_sync.sandbox.hubspot.search import MAX_BODY, run_search
from onboard_sync.sandbox.hubspot.wire import (
    Call,
    Reply,
    as_object,
    batch_body,
    inputs_of,
    object_json,
    property_names,
)

if TYPE_CHECKING:
    from onboard_sync.sandbox.hubspot.sandbox import HubSpotSandbox

LIST_MAX = 100


def list_objects(sb: HubSpotSandbox, call: Call) -> Reply:
    backend = sb.backend
    kind = backend.kind(call.params["objectType"])
    limit = call.int_param("limit", 10, LIST_MAX) or 10
    archived = call.bool_param("archived")
    names = property_names(backend, kind, call.list_param("properties"))
    assoc = call.list_param("associations")
    history = call.list_param("propertiesWithHistory")
    after = call.query.get("after")
    with backend.lock:
        store = backend.objects[kind]
        ids = list(store)
        start = 0
        if after:
            if not after.isdigit():
                raise validation_error(f"Invalid 'after' cursor {after!r}")
            start = bisect_left(ids, (len(after), after), key=lambda i: (len(i), i))
        page, nxt = [], None
        for rid in ids[start:]:
            record = store[rid]
            if record.archived != archived:
                continue
            if len(page) == limit:
                nxt = rid
                break
            page.append(object_json(backend, record, names, assoc, history=history))
    body: dict[str, Any] = {"results": page}
    if nxt is not None:  # omitted on the last page: fetch_all stops only when paging is None
        link = f"{sb.base_url}/crm/v3/objects/{call.params['objectType']}?after={nxt}&limit={limit}"
        body["paging"] = {"next": {"after": nxt, "link": link}}
    return Reply(200, body)


def get_object(sb: HubSpotSandbox, call: Call) -> Reply:
    backend = sb.backend
    kind = backend.kind(call.params["objectType"])
    with backend.lock:
        record = backend.get(
            kind, call.params["objectId"], call.query.get("idProperty"), archived=call.bool_param("archived")
        )
        names = property_names(backend, kind, call.list_param("properties"))
        return Reply(
            200,
            object_json(
                backend,
                record,
                names,
                call.list_param("associations"),
                history=call.list_param("propertiesWithHistory"),
            ),
        )


def create_object(sb: HubSpotSandbox, call: Call) -> Reply:
    body = call.body_object()
    record = sb.backend.create(
        call.params["objectType"], body.get("properties") or {}, _associations(body), source="API"
    )
    return Reply(201, object_json(sb.backend, record))


def update_object(sb: HubSpotSandbox, call: Call) -> Reply:
    body = call.body_object()
    record = sb.backend.update(
        call.params["objectType"],
        call.params["objectId"],
        body.get("properties") or {},
        source="API",
        id_property=call.query.get("idProperty"),
    )
    return Reply(200, object_json(sb.backend, record))


def archive_object(sb: HubSpotSandbox, call: Call) -> Reply:
    sb.backend.archive(call.params["objectType"], call.params["objectId"], source="API")
    return Reply(204)


def associate_v3(sb: HubSpotSandbox, call: Call) -> Reply:
    p = call.params
    try:
        type_id = int(p["associationTypeId"])
    except ValueError:
        raise validation_error(f"Invalid associationTypeId {p['associationTypeId']!r}") from None
    sb.backend.associate(p["objectType"], p["objectId"], p["toObjectType"], p["toObjectId"], type_id, source="API")
    kind = sb.backend.kind(p["objectType"])
    record = sb.backend.get(kind, p["objectId"])
    return Reply(200, object_json(sb.backend, record, None, [p["toObjectType"]]))


def dissociate_v3(sb: HubSpotSandbox, call: Call) -> Reply:
    p = call.params
    sb.backend.dissociate(p["objectType"], p["objectId"], p["toObjectType"], p["toObjectId"], source="API")
    return Reply(204)


def search(sb: HubSpotSandbox, call: Call) -> Reply:
    if len(call.raw) > MAX_BODY:
        raise validation_error(f"The search request body exceeds {MAX_BODY} characters")
    backend = sb.backend
    kind = backend.kind(call.params["objectType"])
    page = run_search(backend, kind, call.json(default={}), sb.clock.now())
    names = property_names(backend, kind, page.properties)
    body: dict[str, Any] = {
        "total": page.total,
        "results": [object_json(backend, r, names, view=view) for r, view in page.hits],
    }
    if page.after is not None:
        body["paging"] = {"next": {"after": page.after}}
    return Reply(200, body)


def batch_read(sb: HubSpotSandbox, call: Call) -> Reply:
    backend = sb.backend
    kind = backend.kind(call.params["objectType"])
    body = call.body_object()
    started = sb.clock.now()
    id_property = body.get("idProperty")
    archived = call.bool_param("archived")
    names = property_names(backend, kind, body.get("properties") or None)
    history = body.get("propertiesWithHistory") or None
    results, missing = [], []
    with backend.lock:
        for item in inputs_of(body):
            rid = str(as_object(item).get("id", ""))
            record = backend.find(kind, rid, id_property, archived=archived)
            if record is None:
                missing.append(rid)
            else:
                results.append(object_json(backend, record, names, history=history))
    errors = []
    if missing:
        errors.append(
            HubSpotError(
                404,
                "OBJECT_NOT_FOUND",
                f"Could not get some {sch.SINGULAR[kind].upper()} objects, they may be deleted or "
                "not exist. Check that ids are valid.",
                context={"ids": missing},
            ).batch_error()
        )
    return Reply(207 if errors else 200, batch_body(results, errors, started, sb.clock.now()))


def batch_create(sb: HubSpotSandbox, call: Call) -> Reply:
    kind = sb.backend.kind(call.params["objectType"])

    def prepare(item: dict[str, Any]) -> tuple[PreparedWrite, bool]:
        return sb.backend.prepare_create(kind, item.get("properties") or {}, _associations(item)), True

    return _batch(sb, call, kind, prepare, 201)


def batch_update(sb: HubSpotSandbox, call: Call) -> Reply:
    kind = sb.backend.kind(call.params["objectType"])

    def prepare(item: dict[str, Any]) -> tuple[PreparedWrite, bool]:
        if "id" not in item:
            raise validation_error("Each batch update input needs an 'id'")
        rid = str(item["id"])
        return sb.backend.prepare_update(kind, rid, item.get("properties") or {}, item.get("idProperty")), False

    return _batch(sb, call, kind, prepare, 200, unique_ids=True, unknown_refuses_all=True)


def batch_upsert(sb: HubSpotSandbox, call: Call) -> Reply:
    backend = sb.backend
    kind = backend.kind(call.params["objectType"])

    def prepare(item: dict[str, Any]) -> tuple[PreparedWrite, bool]:
        id_property, value = item.get("idProperty"), item.get("id")
        if not id_property or value in (None, ""):
            raise validation_error("Each upsert input needs 'id' and 'idProperty' (a unique property)")
        if id_property not in backend.unique_properties(kind) or id_property == "hs_object_id":
            raise validation_error(f"{id_property} is not a unique property and cannot be used for upsert")
        existing = backend.find(kind, str(value), id_property)
        props = dict(item.get("properties") or {})
        if existing is not None:
            return backend.prepare_update(kind, existing.id, props), False
        props[id_property] = value
        return backend.prepare_create(kind, props), True

    return _batch(sb, call, kind, prepare, 200, unique_ids=True, upsert=True)


def batch_archive(sb: HubSpotSandbox, call: Call) -> Reply:
    kind = sb.backend.kind(call.params["objectType"])
    with sb.backend.lock:
        for item in inputs_of(call.body_object()):
            sb.backend.archive(kind, str(as_object(item).get("id", "")), source="API")
    return Reply(204)


def _batch(
    sb: HubSpotSandbox,
    call: Call,
    kind: str,
    prepare: Any,
    ok_status: int,
    *,
    unique_ids: bool = False,
    upsert: bool = False,
    unknown_refuses_all: bool = False,
) -> Reply:
    """Validate every input, then write. A bad input fails the whole batch (400) unless every input
    carries an ``objectWriteTraceId`` (then: 207 with per-record errors); not-found ids in updates and
    the sandbox's ``partial_batch`` fault always give 207. With ``unknown_refuses_all`` (batch update, as
    HubSpot does) a property that does not exist fails the whole batch, trace ids or not, naming every
    missing property."""
    backend = sb.backend
    inputs = [as_object(i) for i in inputs_of(call.body_object())]
    started = sb.clock.now()
    if unique_ids:
        seen: set[str] = set()
        dupes = sorted({str(i.get("id")) for i in inputs if str(i.get("id")) in seen or seen.add(str(i.get("id")))})
        if dupes:
            raise validation_error(f"Duplicate IDs found in batch input: {dupes}. IDs must be unique")
    fail_every = sb.faults.take_partial(call.path)
    traced = bool(inputs) and all(i.get("objectWriteTraceId") for i in inputs)
    errors: list[dict[str, Any]] = []
    failures: list[HubSpotError] = []
    results: list[Any] = []
    with backend.lock:
        planned: list[tuple[PreparedWrite, bool]] = []
        claimed: dict[tuple[str, str], int] = {}
        for n, item in enumerate(inputs, start=1):
            trace = item.get("objectWriteTraceId")
            trace = str(trace) if trace is not None else None
            if fail_every and n % fail_every == 0:
                errors.append(
                    HubSpotError(
                        500,
                        "VALIDATION_ERROR",
                        f"Simulated failure of input {n} (sandbox partial_batch fault)",
                    ).batch_error(trace, {"index": [str(n - 1)]})
                )
                continue
            try:
                prep, is_new = prepare(item)
                _claim_unique(backend, kind, prep, claimed, n)
            except HubSpotError as exc:
                errors.append(exc.batch_error(trace, {"index": [str(n - 1)]}))
                if exc.category != "OBJECT_NOT_FOUND":
                    failures.append(exc)
                continue
            planned.append((prep, is_new))
        missing = _unknown_properties(failures) if unknown_refuses_all else []
        if missing:
            raise property_errors(missing)
        if failures and not traced:
            first = failures[0]
            raise HubSpotError(first.status, first.category, first.message, errors=first.errors, context=first.context)
        for prep, is_new in planned:
            if prep.record_id is None:
                record = backend.commit_create(prep, "API")
            else:
                record = backend.commit_update(prep, "API")
            out = object_json(backend, record)
            if upsert:
                out["new"] = is_new
            results.append(out)
    return Reply(207 if errors else ok_status, batch_body(results, errors, started, sb.clock.now()))


def _unknown_properties(failures: list[HubSpotError]) -> list[tuple[str, str, str]]:
    """``(name, "PROPERTY_DOESNT_EXIST", message)`` for each distinct missing property the failures name."""
    found: dict[str, str] = {}
    for failure in failures:
        for detail in failure.errors or ():
            if detail.get("code") == "PROPERTY_DOESNT_EXIST":
                for name in detail.get("context", {}).get("propertyName", ()):
                    found.setdefault(name, str(detail.get("message", "")))
    return [(name, "PROPERTY_DOESNT_EXIST", message) for name, message in found.items()]


def _claim_unique(backend: Any, kind: str, prep: PreparedWrite, claimed: dict[tuple[str, str], int], n: int) -> None:
    for prop in backend.unique_properties(kind) - {"hs_object_id"}:
        value = prep.clean.get(prop)
        if value is None:
            continue
        key = (prop, value.lower() if prop == "email" else value)
        if key in claimed:
            raise validation_error(
                f"Input {n} repeats the value {value!r} of unique property {prop} "
                f"(already used by input {claimed[key]} of this batch)"
            )
        claimed[key] = n


def _associations(body: dict[str, Any]) -> list[Any]:
    assoc = body.get("associations") or []
    if not isinstance(assoc, list):
        raise validation_error("Invalid input JSON: 'associations' must be a list")
    return assoc


__all__ = [
    "archive_object",
    "associate_v3",
    "batch_archive",
    "batch_create",
    "batch_read",
    "batch_update",
    "batch_upsert",
    "create_object",
    "dissociate_v3",
    "get_object",
    "list_objects",
    "search",
    "update_object",
]
