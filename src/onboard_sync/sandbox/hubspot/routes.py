"""The HubSpot sandbox's URL table: each path template, its handler and what the middleware does to it.

Handlers live in the ``responses_*.py`` modules; the table is served by ``app.py``'s middleware stack.
Authenticated routes count against the ten-secondly (per token) and daily limits, search routes
against the search secondly and daily limits; the request log keeps the object types in templates
(``POST /crm/v3/objects/tasks/batch/create``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from onboard_sync.sandbox.hubspot import responses_associations as assoc
from onboard_sync.sandbox.hubspot import responses_meta as meta
from onboard_sync.sandbox.hubspot import responses_objects as obj
from onboard_sync.sandbox.routing import Route, RouteTable

KEEP = {"objectType", "fromObjectType", "toObjectType"}  # path parts kept verbatim in request templates
BURST, DAILY, SEARCH = "burst", "daily", "search"
"""Limit policy names: ten-secondly per token, daily per portal, search secondly per portal."""


def api(method: str, pattern: str, handler: Callable[..., Any]) -> Route:
    """An authenticated route counted against the ten-secondly and daily limits."""
    return Route(method, pattern, handler, limits=(BURST, DAILY))


def search(pattern: str, handler: Callable[..., Any]) -> Route:
    """A search route: its own secondly limit, then the daily one, and no rate-limit headers."""
    return Route("POST", pattern, handler, limits=(SEARCH, DAILY))


def open_route(method: str, pattern: str, handler: Callable[..., Any]) -> Route:
    """A route without a token (OAuth, the sandbox's reset hook): no auth and no limits."""
    return Route(method, pattern, handler, auth=False)


OBJ = "/crm/v3/objects/{objectType}"
A4 = "/crm/v4/associations/{fromObjectType}/{toObjectType}"
P = "/crm/v3/properties/{objectType}"
ASSOC_V3 = f"{OBJ}/{{objectId}}/associations/{{toObjectType}}/{{toObjectId}}/{{associationTypeId}}"
ASSOC_V4 = "/crm/v4/objects/{objectType}/{objectId}/associations/{toObjectType}/{toObjectId}"
ROUTES = RouteTable(
    [
        search(f"{OBJ}/search", obj.search),
        api("POST", f"{OBJ}/batch/read", obj.batch_read),
        api("POST", f"{OBJ}/batch/create", obj.batch_create),
        api("POST", f"{OBJ}/batch/update", obj.batch_update),
        api("POST", f"{OBJ}/batch/upsert", obj.batch_upsert),
        api("POST", f"{OBJ}/batch/archive", obj.batch_archive),
        api("GET", OBJ, obj.list_objects),
        api("POST", OBJ, obj.create_object),
        api("GET", f"{OBJ}/{{objectId}}", obj.get_object),
        api("PATCH", f"{OBJ}/{{objectId}}", obj.update_object),
        api("DELETE", f"{OBJ}/{{objectId}}", obj.archive_object),
        api("PUT", ASSOC_V3, obj.associate_v3),
        api("DELETE", ASSOC_V3, obj.dissociate_v3),
        api("POST", f"{A4}/batch/read", assoc.v4_batch_read),
        api("POST", f"{A4}/batch/create", assoc.v4_batch_create),
        api("POST", f"{A4}/batch/associate/default", assoc.v4_batch_default),
        api("POST", f"{A4}/batch/archive", assoc.v4_batch_archive),
        api(
            "PUT",
            "/crm/v4/objects/{fromObjectType}/{fromObjectId}/associations/default/{toObjectType}/{toObjectId}",
            assoc.v4_put_default,
        ),
        api("PUT", ASSOC_V4, assoc.v4_put_labelled),
        api("DELETE", ASSOC_V4, assoc.v4_delete),
        api("GET", "/crm/v4/objects/{objectType}/{objectId}/associations/{toObjectType}", assoc.v4_list),
        api("GET", "/crm/v3/owners/", meta.list_owners),
        api("GET", "/crm/v3/owners/{ownerId}", meta.get_owner),
        api("GET", f"{P}/groups", meta.list_groups),
        api("POST", f"{P}/groups", meta.create_group),
        api("GET", f"{P}/groups/{{groupName}}", meta.get_group),
        api("POST", f"{P}/batch/create", meta.batch_create_properties),
        api("POST", f"{P}/batch/read", meta.batch_read_properties),
        api("GET", P, meta.list_properties),
        api("POST", P, meta.create_property),
        api("GET", f"{P}/{{propertyName}}", meta.get_property),
        api("PATCH", f"{P}/{{propertyName}}", meta.update_property),
        api("DELETE", f"{P}/{{propertyName}}", meta.archive_property),
        api("GET", "/crm/v3/pipelines/{objectType}", meta.list_pipelines),
        api("GET", "/crm/v3/pipelines/{objectType}/{pipelineId}", meta.get_pipeline),
        api("GET", "/crm/v3/pipelines/{objectType}/{pipelineId}/stages", meta.get_pipeline),
        open_route("POST", "/oauth/v1/token", meta.oauth_token),
        api("GET", "/account-info/v3/details", meta.account_details),
        open_route("POST", "/_sandbox/reset", meta.sandbox_reset),
    ],
    keep=KEEP,
)

__all__ = ["BURST", "DAILY", "ROUTES", "SEARCH"]
