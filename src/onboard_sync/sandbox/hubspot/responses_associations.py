"""Associations v4 endpoints of the HubSpot sandbox (``/crm/v4/associations/...`` and
``/crm/v4/objects/.../associations/...``): batch read/create/default/archive, PUT default or labelled,
list and delete.

Registered in ``routes.py``; shapes follow the SDK's ``hubspot.crm.associations.v4`` models
(``toObjectId`` as a number, ``associationTypes`` with ``category``/``typeId``/``label``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from onboard_sync.sandbox.hubspot import schema as sch
from onboard_sync.sandbox.hubspot.errors import HubSpotError, validation_error
from onboard_sync.sandbox.hubspot.wire import Call, Reply, as_object, batch_body, inputs_of

if TYPE_CHECKING:
    from onboard_sync.sandbox.hubspot.sandbox import HubSpotSandbox


def _types_json(types: list[int]) -> list[dict[str, Any]]:
    return [{"category": "HUBSPOT_DEFINED", "typeId": t, "label": sch.ASSOCIATION_TYPES[t][2]} for t in types]


def v4_batch_read(sb: HubSpotSandbox, call: Call) -> Reply:
    backend, started = sb.backend, sb.clock.now()
    fk, tk = backend.kind(call.params["fromObjectType"]), backend.kind(call.params["toObjectType"])
    results, errors = [], []
    with backend.lock:
        for item in inputs_of(call.body_object(), cap=1000):
            rid = str(as_object(item).get("id", ""))
            linked = backend.association_types(fk, rid, tk)
            if not linked:
                errors.append(
                    HubSpotError(
                        404,
                        "OBJECT_NOT_FOUND",
                        f"No {sch.SINGULAR[tk]} is associated with {sch.SINGULAR[fk]} {rid}.",
                        context={"fromObjectId": [rid]},
                    ).batch_error()
                )
                continue
            results.append(
                {
                    "from": {"id": rid},
                    "to": [
                        {"toObjectId": int(tid), "associationTypes": _types_json(types)}
                        for tid, types in linked.items()
                    ],
                }
            )
    return Reply(207 if errors else 200, batch_body(results, errors, started, sb.clock.now()))


def v4_batch_create(sb: HubSpotSandbox, call: Call) -> Reply:
    backend, started = sb.backend, sb.clock.now()
    fk, tk = backend.kind(call.params["fromObjectType"]), backend.kind(call.params["toObjectType"])
    results, errors = [], []
    for item in inputs_of(call.body_object()):
        item = as_object(item)
        try:
            fid, tid = str(as_object(item.get("from")).get("id")), str(as_object(item.get("to")).get("id"))
            types = item.get("types") or [{"associationTypeId": sch.DEFAULT_TYPE.get((fk, tk))}]
            for spec in types:
                backend.associate(fk, fid, tk, tid, int(as_object(spec).get("associationTypeId") or 0), source="API")
        except HubSpotError as exc:
            errors.append(exc.batch_error())
            continue
        except (TypeError, ValueError):
            errors.append(validation_error("Invalid association input").batch_error())
            continue
        results.append(_labels_pair(fk, fid, tk, tid, backend.association_types(fk, fid, tk).get(tid, [])))
    return Reply(207 if errors else 201, batch_body(results, errors, started, sb.clock.now()))


def v4_batch_default(sb: HubSpotSandbox, call: Call) -> Reply:
    backend, started = sb.backend, sb.clock.now()
    fk, tk = backend.kind(call.params["fromObjectType"]), backend.kind(call.params["toObjectType"])
    results = []
    for item in inputs_of(call.body_object()):
        item = as_object(item)
        fid, tid = str(as_object(item.get("from")).get("id")), str(as_object(item.get("to")).get("id"))
        results.append(_default(sb, fk, fid, tk, tid))
    return Reply(200, batch_body(results, [], started, sb.clock.now()))


def v4_batch_archive(sb: HubSpotSandbox, call: Call) -> Reply:
    fk, tk = sb.backend.kind(call.params["fromObjectType"]), sb.backend.kind(call.params["toObjectType"])
    for item in inputs_of(call.body_object()):
        item = as_object(item)
        fid = str(as_object(item.get("from")).get("id"))
        for to in item.get("to") or []:
            sb.backend.dissociate(fk, fid, tk, str(as_object(to).get("id")), source="API")
    return Reply(204)


def v4_put_default(sb: HubSpotSandbox, call: Call) -> Reply:
    p, started = call.params, sb.clock.now()
    fk, tk = sb.backend.kind(p["fromObjectType"]), sb.backend.kind(p["toObjectType"])
    result = _default(sb, fk, p["fromObjectId"], tk, p["toObjectId"])
    return Reply(200, batch_body([result], [], started, sb.clock.now()))


def v4_put_labelled(sb: HubSpotSandbox, call: Call) -> Reply:
    p = call.params
    fk, tk = sb.backend.kind(p["objectType"]), sb.backend.kind(p["toObjectType"])
    specs = call.json()
    if not isinstance(specs, list) or not specs:
        raise validation_error("Expected a list of {associationCategory, associationTypeId}")
    for spec in specs:
        sb.backend.associate(
            fk,
            p["objectId"],
            tk,
            p["toObjectId"],
            int(as_object(spec).get("associationTypeId") or 0),
            source="API",
        )
    types = sb.backend.association_types(fk, p["objectId"], tk).get(p["toObjectId"], [])
    return Reply(201, _labels_pair(fk, p["objectId"], tk, p["toObjectId"], types))


def v4_list(sb: HubSpotSandbox, call: Call) -> Reply:
    p = call.params
    linked = sb.backend.association_types(p["objectType"], p["objectId"], p["toObjectType"])
    limit = call.int_param("limit", 500, 500) or 500
    start = call.int_param("after", 0)
    items = list(linked.items())
    body: dict[str, Any] = {
        "results": [
            {"toObjectId": int(tid), "associationTypes": _types_json(types)}
            for tid, types in items[start : start + limit]
        ]
    }
    if start + limit < len(items):
        body["paging"] = {"next": {"after": str(start + limit)}}
    return Reply(200, body)


def v4_delete(sb: HubSpotSandbox, call: Call) -> Reply:
    p = call.params
    sb.backend.dissociate(p["objectType"], p["objectId"], p["toObjectType"], p["toObjectId"], source="API")
    return Reply(204)


def _default(sb: HubSpotSandbox, fk: str, fid: str, tk: str, tid: str) -> dict[str, Any]:
    type_id = sch.DEFAULT_TYPE[(fk, tk)]
    sb.backend.associate(fk, fid, tk, tid, type_id, source="API")
    return {
        "from": {"id": fid},
        "to": {"id": tid},
        "associationSpec": {"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": type_id},
    }


def _labels_pair(fk: str, fid: str, tk: str, tid: str, types: list[int]) -> dict[str, Any]:
    return {
        "fromObjectTypeId": sch.OBJECT_TYPE_IDS[fk],
        "fromObjectId": int(fid),
        "toObjectTypeId": sch.OBJECT_TYPE_IDS[tk],
        "toObjectId": int(tid),
        "labels": [label for t in types if (label := sch.ASSOCIATION_TYPES[t][2])],
    }
