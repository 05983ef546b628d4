"""ToyCRM's URL table: which handler answers which path, and what the shared middleware does first.

Every ``/v1`` route needs a Bearer token and counts against the ``api`` limit policy (requests per
ten seconds per token, enforced when the simulator is given ``rate_limit``); the token endpoint
needs neither. The request log keeps the object type in templates (``POST /v1/tasks/batch/create``).
"""

from __future__ import annotations

from onboard_sync.sandbox.routing import Route, RouteTable
from onboard_toycrm.sim import responses as r

API = ("api",)
ROUTES = RouteTable(
    [
        Route("POST", "/oauth/token", r.token, auth=False),
        Route("GET", "/v1/me", r.me, limits=API),
        Route("GET", "/v1/owners", r.owners, limits=API),
        Route("GET", "/v1/activities/recent", r.activities, limits=API),
        Route("GET", "/v1/deals/{deal_id}/activities", r.activities, limits=API),
        Route("POST", "/v1/activities", r.create_activity, limits=API),
        Route("POST", "/v1/activities/{activity_id}", r.change_activity, limits=API),
        Route("GET", "/v1/{kind}/search", r.search, limits=API),
        Route("POST", "/v1/{kind}/batch/read", r.batch_read, limits=API),
        Route("POST", "/v1/{kind}/batch/create", r.batch_create, limits=API),
        Route("POST", "/v1/{kind}/batch/update", r.batch_update, limits=API),
        Route("GET", "/v1/{kind}/properties", r.list_properties, limits=API),
        Route("POST", "/v1/{kind}/properties", r.create_property, limits=API),
    ],
    keep={"kind"},
)
