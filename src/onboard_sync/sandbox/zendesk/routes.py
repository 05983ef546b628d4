"""The Zendesk sandbox's URL table: paths with or without ``.json``, their handlers and limit policies.

Every route counts against the account's per-minute limit; incremental exports also against the
export limit (10 a minute). ``POST /oauth/tokens`` is the one route without a credential. Served
by ``app.py``; handlers in ``responses.py``.
"""

from __future__ import annotations

from onboard_sync.sandbox.routing import Route, RouteTable
from onboard_sync.sandbox.zendesk import responses as r

MINUTE, EXPORT = "minute", "export"
"""Limit policy names: requests per minute for the account, incremental exports per minute."""
API, EXPORTS = (MINUTE,), (MINUTE, EXPORT)

ROUTES = RouteTable(
    [
        Route("GET", "/api/v2/incremental/tickets/cursor", r.export_cursor("tickets"), limits=EXPORTS),
        Route("GET", "/api/v2/incremental/users/cursor", r.export_cursor("users"), limits=EXPORTS),
        Route("GET", "/api/v2/incremental/organizations", r.export_time("organizations"), limits=EXPORTS),
        Route("GET", "/api/v2/incremental/users", r.export_time("users"), limits=EXPORTS),
        Route("GET", "/api/v2/organizations", r.listing("organizations"), limits=API),
        Route("GET", "/api/v2/users", r.listing("users"), limits=API),
        Route("GET", "/api/v2/tickets", r.listing("tickets"), limits=API),
        Route("GET", "/api/v2/tickets/show_many", r.show_many_tickets, limits=API),
        Route("GET", "/api/v2/ticket_metrics", r.listing("ticket_metrics"), limits=API),
        Route("GET", "/api/v2/tickets/{id}/metrics", r.ticket_metric, limits=API),
        Route("GET", "/api/v2/users/me", r.me, limits=API),
        Route("PUT", "/api/v2/organizations/update_many", r.update_many_orgs, limits=API),
        Route("GET", "/api/v2/organizations/{id}", r.show_org, limits=API),
        Route("PUT", "/api/v2/organizations/{id}", r.update_org, limits=API),
        Route("GET", "/api/v2/job_statuses/{id}", r.job_status, limits=API),
        Route("GET", "/api/v2/organization_fields", r.list_org_fields, limits=API),
        Route("POST", "/api/v2/organization_fields", r.create_org_field, limits=API),
        Route("POST", "/oauth/tokens", r.oauth_tokens, auth=False, limits=API),
    ],
    segment=r"[^/.]+",
    suffix=r"(?:\.json)?/?",
)

__all__ = ["EXPORT", "MINUTE", "ROUTES"]
