"""ToyCRM's responses: each handler parses a request, calls the backend, answers in ToyCRM's JSON.

Handlers take the simulator (its ``backend`` and ``faults``) and a
:class:`~onboard_sync.sandbox.middleware.SimRequest` and return a
:class:`~onboard_sync.sandbox.middleware.Reply`; ``routes.py`` says which URL calls which.
"""

from __future__ import annotations

import copy
import json
from datetime import datetime
from typing import TYPE_CHECKING, Any

from onboard_sync.sandbox.middleware import Reply, SimRequest
from onboard_toycrm.sim.backend import ToyCrmError

if TYPE_CHECKING:
    from onboard_toycrm.sim import ToyCrm


def body_of(request: SimRequest) -> Any:
    try:
        return json.loads(request.body or b"{}")
    except ValueError:
        raise ToyCrmError(400, "the body is not JSON", code="invalid") from None


def page(rows: list[dict[str, Any]], request: SimRequest, start_param: str) -> tuple[list[dict[str, Any]], str | None]:
    """Offset paging: rows from ``start_param`` (or ``after``), ``limit`` of them, and the next offset."""
    start = int(request.query.get(start_param) or request.query.get("after") or 0)
    limit = int(request.query.get("limit", 100))
    more = start + limit < len(rows)
    return rows[start : start + limit], str(start + limit) if more else None


def kind_of(sim: ToyCrm, request: SimRequest) -> str:
    """The ``{kind}`` of the path, if ToyCRM has that object type (404 otherwise)."""
    return sim.backend.kind(request.params["kind"])


def since(request: SimRequest, name: str) -> datetime | None:
    value = request.query.get(name)
    return datetime.fromisoformat(value) if value else None


def token(sim: ToyCrm, request: SimRequest) -> Reply:
    return Reply(200, sim.backend.grant(body_of(request)))


def me(sim: ToyCrm, request: SimRequest) -> Reply:
    return Reply(200, {"workspace": sim.name, "email": "integration@toycrm.test"})


def owners(sim: ToyCrm, request: SimRequest) -> Reply:
    start, limit = int(request.query.get("offset", 0)), int(request.query.get("limit", 100))
    owners = sim.backend.owners
    return Reply(200, {"results": copy.deepcopy(owners[start : start + limit]), "total": len(owners)})


def search(sim: ToyCrm, request: SimRequest) -> Reply:
    q = request.query
    found = sim.backend.search(kind_of(sim, request), since(request, "modified_since"), q.get("stage"), q.get("has"))
    rows, after = page(found, request, "after")
    wanted = sorted({a for r in rows for a in r.get("account_ids", ())}) if q.get("include") else []
    return Reply(200, {"results": rows, "next": after, "accounts": sim.backend.accounts(wanted)})


def batch_read(sim: ToyCrm, request: SimRequest) -> Reply:
    return Reply(200, {"results": sim.backend.read(kind_of(sim, request), body_of(request))})


def batch_create(sim: ToyCrm, request: SimRequest) -> Reply:
    """One answer per input; a partial failure armed with ``fail_next_create`` fails every n-th."""
    fail_every = sim.faults.take_partial(request.path)
    inputs = body_of(request)["inputs"]
    return Reply(200, {"results": sim.backend.create(kind_of(sim, request), inputs, fail_every)})


def batch_update(sim: ToyCrm, request: SimRequest) -> Reply:
    inputs = body_of(request)["inputs"]
    return Reply(200, {"results": sim.backend.update(kind_of(sim, request), inputs)})


def list_properties(sim: ToyCrm, request: SimRequest) -> Reply:
    return Reply(200, {"results": sim.backend.properties(kind_of(sim, request))})


def create_property(sim: ToyCrm, request: SimRequest) -> Reply:
    return Reply(200, sim.backend.create_property(kind_of(sim, request), body_of(request)))


def activities(sim: ToyCrm, request: SimRequest) -> Reply:
    """A deal's activities (``/v1/deals/{deal_id}/activities``) or all recent ones."""
    found = sim.backend.activities(request.params.get("deal_id"), since(request, "since"))
    rows, after = page(found, request, "start")
    return Reply(200, {"data": rows, "more": after is not None, "next": after})


def create_activity(sim: ToyCrm, request: SimRequest) -> Reply:
    return Reply(200, sim.backend.create_activity(body_of(request)))


def change_activity(sim: ToyCrm, request: SimRequest) -> Reply:
    return Reply(200, sim.backend.change_activity(request.params["activity_id"], body_of(request)))
