"""The Salesforce sandbox's URL table: REST paths under ``/services/data/vNN.N``, handlers and limits.

``{P}`` stands for the versioned prefix (its ``version`` is a path parameter). Every authenticated
route counts against the org's daily API limit; the version list and the OAuth token endpoint need
no session, and the token endpoint is never hit by armed faults (a login is not an API call). Served
by ``app.py``; handlers in ``responses.py``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from onboard_sync.sandbox.routing import Route, RouteTable
from onboard_sync.sandbox.salesforce import responses as r

DAILY = "daily"
"""The limit policy name: API requests per day for the org."""


def api(method: str, pattern: str, handler: Callable[..., Any]) -> Route:
    """A route that needs a session and counts against the daily API limit."""
    return Route(method, pattern, handler, limits=(DAILY,))


TOKEN = Route("POST", "/services/oauth2/token", r.token, auth=False, faults=False)
ROUTES = RouteTable(
    [
        TOKEN,
        Route("GET", "/services/data", r.versions, auth=False),
        api("GET", "{P}/query", r.query),
        api("GET", "{P}/queryAll", r.query),
        api("GET", "{P}/query/{locator}", r.query_more),
        api("GET", "{P}/queryAll/{locator}", r.query_more),
        api("GET", "{P}/sobjects", r.global_describe),
        api("GET", "{P}/sobjects/{sobject}/describe", r.describe),
        api("POST", "{P}/sobjects/{sobject}", r.create),
        api("GET", "{P}/sobjects/{sobject}/{id}", r.record),
        api("PATCH", "{P}/sobjects/{sobject}/{id}", r.record),
        api("DELETE", "{P}/sobjects/{sobject}/{id}", r.record),
        api("PATCH", "{P}/sobjects/{sobject}/{field}/{value}", r.upsert),
        api("POST", "{P}/composite/sobjects", r.collection),
        api("PATCH", "{P}/composite/sobjects", r.collection),
        api("PATCH", "{P}/composite/sobjects/{sobject}/{field}", r.collection),
        api("GET", "{P}/composite/sobjects/{sobject}", r.collection_get),
        api("GET", "{P}/limits", r.limits),
        api("POST", "{P}/tooling/sobjects/CustomField", r.create_custom_field),
    ],
    macros={"P": r"/services/data/v(?P<version>\d+\.\d)"},
)

__all__ = ["DAILY", "ROUTES", "TOKEN"]
