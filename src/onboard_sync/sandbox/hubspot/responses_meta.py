"""Portal-level endpoints of the HubSpot sandbox: owners, properties and groups, pipelines,
associations v4, OAuth token refresh, account info, and the sandbox's own reset hook.

Handlers are registered in ``routes.py``; each takes the sandbox and a parsed ``Call``.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl

from onboard_sync.sandbox.common import iso_ms
from onboard_sync.sandbox.hubspot.errors import HubSpotError, not_found, validation_error
from onboard_sync.sandbox.hubspot.models import Owner
from onboard_sync.sandbox.hubspot.wire import Call, Reply, as_object, batch_body, inputs_of

if TYPE_CHECKING:
    from onboard_sync.sandbox.hubspot.sandbox import HubSpotSandbox

PROPERTY_TYPES = {"bool", "date", "datetime", "enumeration", "number", "phone_number", "string"}
FIELD_TYPES = {
    "booleancheckbox",
    "calculation_equation",
    "checkbox",
    "date",
    "file",
    "html",
    "number",
    "phonenumber",
    "radio",
    "select",
    "text",
    "textarea",
}
MAX_UNIQUE = 10


# -- owners ---------------------------------------------------------------------------------------
def owner_json(owner: Owner) -> dict[str, Any]:
    stamp = iso_ms(owner.created_at)
    return {
        "id": owner.id,
        "email": owner.email,
        "type": "PERSON",
        "firstName": owner.first_name,
        "lastName": owner.last_name,
        "userId": owner.user_id,
        "userIdIncludingInactive": owner.user_id,
        "createdAt": stamp,
        "updatedAt": stamp,
        "archived": owner.archived,
        "teams": [{"id": _team_id(owner.team), "name": owner.team, "primary": True}],
    }


def _team_id(team: str) -> str:
    return {"Sales": "4100001", "Customer Success": "4100002"}.get(team, "4100009")


def list_owners(sb: HubSpotSandbox, call: Call) -> Reply:
    owners = sorted(sb.backend.owners.values(), key=lambda o: int(o.id))
    email = call.query.get("email")
    archived = call.bool_param("archived")
    owners = [o for o in owners if o.archived == archived and (email is None or o.email.lower() == email.lower())]
    limit = call.int_param("limit", 100, 500) or 100
    start = call.int_param("after", 0)
    page = owners[start : start + limit]
    body: dict[str, Any] = {"results": [owner_json(o) for o in page]}
    if start + limit < len(owners):
        body["paging"] = {
            "next": {
                "after": str(start + limit),
                "link": f"{sb.base_url}/crm/v3/owners/?after={start + limit}",
            }
        }
    return Reply(200, body)


def get_owner(sb: HubSpotSandbox, call: Call) -> Reply:
    key, by = call.params["ownerId"], call.query.get("idProperty", "id")
    for owner in sb.backend.owners.values():
        if (owner.id if by == "id" else str(owner.user_id)) == key:
            return Reply(200, owner_json(owner))
    raise not_found(f"Owner {key} not found")


# -- properties -----------------------------------------------------------------------------------
def list_properties(sb: HubSpotSandbox, call: Call) -> Reply:
    kind = sb.backend.kind(call.params["objectType"])
    archived = call.bool_param("archived")
    return Reply(200, {"results": [p for p in sb.backend.schema[kind].values() if p["archived"] == archived]})


def get_property(sb: HubSpotSandbox, call: Call) -> Reply:
    kind = sb.backend.kind(call.params["objectType"])
    prop = sb.backend.schema[kind].get(call.params["propertyName"])
    if prop is None:
        raise not_found(f"Unable to find property {call.params['propertyName']} for object type {kind}")
    return Reply(200, prop)


def create_property(sb: HubSpotSandbox, call: Call) -> Reply:
    kind = sb.backend.kind(call.params["objectType"])
    return Reply(201, _new_property(sb, kind, call.body_object()))


def batch_create_properties(sb: HubSpotSandbox, call: Call) -> Reply:
    kind = sb.backend.kind(call.params["objectType"])
    started = sb.clock.now()
    results, errors = [], []
    for item in inputs_of(call.body_object()):
        try:
            results.append(_new_property(sb, kind, as_object(item)))
        except HubSpotError as exc:
            errors.append(
                exc.batch_error(extra_context={"name": [str(item.get("name"))]} if isinstance(item, dict) else None)
            )
    return Reply(207 if errors else 201, batch_body(results, errors, started, sb.clock.now()))


def batch_read_properties(sb: HubSpotSandbox, call: Call) -> Reply:
    kind = sb.backend.kind(call.params["objectType"])
    started = sb.clock.now()
    names = [str(as_object(i).get("name")) for i in inputs_of(call.body_object())]
    found = [sb.backend.schema[kind][n] for n in names if n in sb.backend.schema[kind]]
    missing = [n for n in names if n not in sb.backend.schema[kind]]
    errors = [not_found(f"Property {n} does not exist").batch_error(extra_context={"name": [n]}) for n in missing]
    return Reply(207 if errors else 200, batch_body(found, errors, started, sb.clock.now()))


def update_property(sb: HubSpotSandbox, call: Call) -> Reply:
    kind = sb.backend.kind(call.params["objectType"])
    prop = sb.backend.schema[kind].get(call.params["propertyName"])
    if prop is None:
        raise not_found(f"Unable to find property {call.params['propertyName']}")
    body = call.body_object()
    allowed = {
        "label",
        "description",
        "groupName",
        "options",
        "displayOrder",
        "hidden",
        "formField",
        "type",
        "fieldType",
    }
    prop.update({k: v for k, v in body.items() if k in allowed})
    prop["updatedAt"] = iso_ms(sb.clock.now())
    return Reply(200, prop)


def archive_property(sb: HubSpotSandbox, call: Call) -> Reply:
    kind = sb.backend.kind(call.params["objectType"])
    prop = sb.backend.schema[kind].get(call.params["propertyName"])
    if prop is not None and not prop.get("hubspotDefined"):
        prop["archived"] = True
        del sb.backend.schema[kind][prop["name"]]
    return Reply(204)


def _new_property(sb: HubSpotSandbox, kind: str, body: dict[str, Any]) -> dict[str, Any]:
    missing = [f for f in ("name", "label", "type", "fieldType", "groupName") if not body.get(f)]
    if missing:
        raise validation_error(f"Missing required fields: {', '.join(missing)}")
    name = str(body["name"])
    if not re.fullmatch(r"[a-z][a-z0-9_]*", name):
        raise validation_error(f"Property name {name!r} must be lowercase letters, digits and underscores")
    if body["type"] not in PROPERTY_TYPES or body["fieldType"] not in FIELD_TYPES:
        raise validation_error(f"Invalid type/fieldType {body['type']!r}/{body['fieldType']!r}")
    if body["groupName"] not in sb.backend.groups[kind]:
        raise validation_error(f"Property group {body['groupName']} does not exist")
    options = body.get("options") or []
    if body["type"] == "enumeration" and not options:
        raise validation_error("Enumeration properties need 'options'")
    with sb.backend.lock:
        if name in sb.backend.schema[kind]:
            raise HubSpotError(
                409,
                "OBJECT_ALREADY_EXISTS",
                f"Property named '{name}' already exists.",
                sub_category="PropertyServiceErrors.PROPERTY_EXISTS",
                context={"name": [name]},
            )
        unique = bool(body.get("hasUniqueValue"))
        if unique and len(sb.backend.unique_properties(kind)) - 1 >= MAX_UNIQUE:
            raise validation_error(f"An object can have at most {MAX_UNIQUE} unique-value properties")
        stamp = iso_ms(sb.clock.now())
        prop = {
            "name": name,
            "label": body["label"],
            "type": body["type"],
            "fieldType": body["fieldType"],
            "groupName": body["groupName"],
            "description": body.get("description", ""),
            "displayOrder": body.get("displayOrder", -1),
            "hidden": bool(body.get("hidden", False)),
            "formField": bool(body.get("formField", False)),
            "calculated": False,
            "externalOptions": False,
            "hasUniqueValue": unique,
            "hubspotDefined": False,
            "archived": False,
            "createdAt": stamp,
            "updatedAt": stamp,
            "options": options,
            "modificationMetadata": {"archivable": True, "readOnlyDefinition": False, "readOnlyValue": False},
        }
        sb.backend.add_property(kind, prop)
        return prop


def list_groups(sb: HubSpotSandbox, call: Call) -> Reply:
    kind = sb.backend.kind(call.params["objectType"])
    return Reply(200, {"results": list(sb.backend.groups[kind].values())})


def get_group(sb: HubSpotSandbox, call: Call) -> Reply:
    kind = sb.backend.kind(call.params["objectType"])
    group = sb.backend.groups[kind].get(call.params["groupName"])
    if group is None:
        raise not_found(f"Property group {call.params['groupName']} does not exist")
    return Reply(200, group)


def create_group(sb: HubSpotSandbox, call: Call) -> Reply:
    kind = sb.backend.kind(call.params["objectType"])
    body = call.body_object()
    if not body.get("name") or not body.get("label"):
        raise validation_error("Property groups need 'name' and 'label'")
    name = str(body["name"])
    if name in sb.backend.groups[kind]:
        raise HubSpotError(409, "OBJECT_ALREADY_EXISTS", f"A property group named '{name}' already exists.")
    group = {
        "name": name,
        "label": body["label"],
        "displayOrder": body.get("displayOrder", -1),
        "archived": False,
    }
    sb.backend.groups[kind][name] = group
    return Reply(201, group)


# -- pipelines ------------------------------------------------------------------------------------
def list_pipelines(sb: HubSpotSandbox, call: Call) -> Reply:
    kind = sb.backend.kind(call.params["objectType"])
    return Reply(200, {"results": sb.backend.pipelines.get(kind, [])})


def get_pipeline(sb: HubSpotSandbox, call: Call) -> Reply:
    kind = sb.backend.kind(call.params["objectType"])
    for pipeline in sb.backend.pipelines.get(kind, []):
        if pipeline["id"] == call.params["pipelineId"]:
            if call.path.rstrip("/").endswith("/stages"):
                return Reply(200, {"results": pipeline["stages"]})
            return Reply(200, pipeline)
    raise not_found(f"Pipeline {call.params['pipelineId']} not found")


# -- auth and account -----------------------------------------------------------------------------
def oauth_token(sb: HubSpotSandbox, call: Call) -> Reply:
    form = dict(parse_qsl(call.raw.decode("utf-8", "replace")))
    status, body = sb.auth.grant(form)
    return Reply(status, body)


def account_details(sb: HubSpotSandbox, call: Call) -> Reply:
    return Reply(
        200,
        {
            "portalId": sb.backend.portal_id,
            "accountType": "STANDARD",
            "timeZone": "UTC",
            "companyCurrency": "USD",
            "additionalCurrencies": [],
            "utcOffset": "+00:00",
            "utcOffsetMilliseconds": 0,
            "uiDomain": "app.hubspot.com",
            "dataHostingLocation": "na1",
        },
    )


def sandbox_reset(sb: HubSpotSandbox, call: Call) -> Reply:
    sb.reset()
    return Reply(200, {"status": "reset"})
