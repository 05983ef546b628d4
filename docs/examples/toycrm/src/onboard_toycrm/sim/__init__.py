"""ToyCRM's API, simulated: a real HTTP server on 127.0.0.1 that the example connector talks to.

A real connector talks to its vendor over HTTP; this package plays the vendor, with what a connector
has to cope with: OAuth access tokens that expire (``POST /oauth/token``), cursor-paged searches,
offset-paged owners, batch writes that fail per record, a unique property, rate limits, and errors
carrying an HTTP status, an error ``code`` and ``Retry-After``. Records travel as JSON with ISO-8601
timestamps and string property values. It is built like the built-in simulators, from
onboard-sync's shared parts: ``backend.py`` holds the state, ``responses.py`` turns requests into
backend calls and answers, ``routes.py`` is the URL table, and :class:`ToyCrm` below runs them
behind the shared middleware (latency, request log, faults, token check, rate limits) and adds the
test controls (what people, time and outages do to the CRM); ``with ToyCrm(...) as crm:`` serves it
at ``crm.url``.

The API (every ``/v1`` call needs ``Authorization: Bearer <access token>``):

* ``POST /oauth/token`` ``{"grant_type": "client_credentials", "client_id", "client_secret"}``
* ``GET /v1/me``; ``GET /v1/owners?offset=&limit=`` (``{"results", "total"}``)
* ``GET /v1/{type}/search?modified_since=&stage=&has=&after=&limit=&include=accounts``
  (``{"results", "next", "accounts"}``, oldest change first)
* ``POST /v1/{type}/batch/read`` ``{"ids"}`` or ``{"property", "values"}``
* ``POST /v1/{type}/batch/create`` / ``batch/update`` ``{"inputs"}``: one answer per input,
  ``{"id"}`` or ``{"error"}`` (``existing_id`` when a unique value is taken, ``unknown_properties``
  naming the properties that do not exist)
* ``GET`` / ``POST /v1/{type}/properties``

Activities are ToyCRM's other kind of task, shaped like Pipedrive's: no custom fields, nothing to
search by but the deal, created and changed one at a time:

* ``GET /v1/deals/{id}/activities?start=&limit=`` and ``GET /v1/activities/recent?since=&after=&limit=``
  (``{"data", "more", "next"}``, oldest change first)
* ``POST /v1/activities`` (one activity: ``{"id"}``), ``POST /v1/activities/{id}`` (a change)
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from onboard_sync.sandbox import FaultInjector, RequestLog, SandboxClock, ServerThread
from onboard_sync.sandbox.faults import Failure
from onboard_sync.sandbox.middleware import (
    Authentication,
    AuthRefusal,
    Credential,
    Faults,
    Latency,
    LimitPolicy,
    RateLimits,
    Reply,
    RequestLogging,
    Routing,
    SimRequest,
    SimulatorApp,
    VendorErrors,
    handlers_given,
)
from onboard_sync.sandbox.ratelimit import RollingWindow
from onboard_sync.sandbox.server import ServedSandbox
from onboard_toycrm.sim.backend import ToyCrmBackend, ToyCrmError, wire
from onboard_toycrm.sim.routes import ROUTES

SECRET_ENV = "TOYCRM_CLIENT_SECRET"
"""The variable ``connector_settings`` names for the client secret (the connector's default)."""


class ToyCrm(ServedSandbox):
    """One ToyCRM workspace: its records, its API (served by ``start``) and test controls.

    ``latency``: seconds before each answer; ``rate_limit``: requests per ten seconds per token
    (429 ``rate_limited`` with ``Retry-After`` past it; unlimited when not given); ``port``: 0 picks
    a free one.
    """

    def __init__(
        self,
        name: str,
        *,
        client_id: str = "onboard-sync",
        client_secret: str,
        latency: float = 0.0,
        rate_limit: int | None = None,
        port: int = 0,
    ) -> None:
        self.name, self.client_id, self.latency = name, client_id, latency
        self.clock = SandboxClock()
        self.backend = ToyCrmBackend(client_id, client_secret, self.clock.now)
        self.faults = FaultInjector()
        self.requests = RequestLog()
        """Every request answered; ``crm.requests.counts()["POST /v1/tasks/batch/create"]``."""
        self.api_limit = RollingWindow(rate_limit or 1000, 10.0, self.clock, enforce=rate_limit is not None)
        policies = {"api": LimitPolicy("api", self.api_limit, key=per_token)}
        stages = [
            RequestLogging(self.requests, self.clock),
            Latency(lambda: self.latency),
            VendorErrors(render_error),
            Routing(ROUTES, lambda request, _: render_error(request, no_route(request))),
            Faults(self.faults, injected),
            Authentication(self.check_token, refuse, self.faults),
            RateLimits(policies, limited),
        ]
        self.app = SimulatorApp(stages, handlers_given(self))  # a handler is ``handler(crm, request)``
        self._server = ServerThread(self.app, port=port, name="toycrm-sim")

    # --- serving (start, stop, the context manager, base_url: from ServedSandbox) ----------------------------
    def close(self) -> None:
        self.stop()

    @property
    def url(self) -> str:
        return self.base_url

    def connector_settings(self) -> dict[str, Any]:
        """The ``[connectors.NAME]`` table of a connector on this simulator (``onboard-sync sandbox``)."""
        return {"type": "toycrm", "base_url": self.url, "client_id": self.client_id, "client_secret_env": SECRET_ENV}

    def connector_secrets(self) -> dict[str, str]:
        return {SECRET_ENV: self.backend.client_secret}

    def check_token(self, request: SimRequest) -> Credential | AuthRefusal:
        token = request.bearer_token()
        if token is None or token not in self.backend.tokens:
            return AuthRefusal("invalid")
        return Credential(token)

    # --- controls for tests: what people, time and outages do to the CRM -------------------------------
    def now(self) -> datetime:
        return self.clock.now()

    def seed(self, deals: int = 12) -> ToyCrm:
        """Two owners, one account and contact per deal, two won deals in three, changed days ago."""
        self.backend.owners = [
            {"id": "o1", "email": "ada@toycrm.test", "name": "Ada", "active": True},
            {"id": "o2", "email": "bo@toycrm.test", "name": "Bo", "active": True},
        ]
        for n in range(1, deals + 1):
            owner = f"o{n % 2 + 1}"
            when = self.now() - timedelta(days=10, minutes=n)
            account = self.add("accounts", {"name": f"Customer {n}", "domain": f"c{n}.test", "owner_id": owner}, when)
            person = {"name": f"Contact {n}", "email": f"p{n}@c{n}.test"}
            contact = self.add("contacts", person, when, account_ids=[account])
            stage = "lost" if n % 3 == 0 else "won"
            props = {"name": f"Deal {n}", "stage": stage, "amount": str(5000 * n), "owner_id": owner}
            props["close_date"] = (when - timedelta(days=1)).isoformat()
            self.add("deals", props, when, account_ids=[account], contact_ids=[contact])
        return self

    def add(self, kind: str, properties: dict[str, Any], updated_at: datetime, **links: Any) -> str:
        record_id = str(next(self.backend.ids))
        record = {"id": record_id, "updated_at": updated_at, "properties": properties, **links}
        self.backend.records[kind][record_id] = record
        return record_id

    def records(self, kind: str) -> list[dict[str, Any]]:
        return wire(self.backend.records[kind].values())

    def touch(self, kind: str, record_id: str, **properties: Any) -> None:
        """A person edits a record: its modification time moves to now."""
        with self.backend.lock:
            record = self.backend.records[kind][record_id]
            record["properties"].update(properties)
            record["updated_at"] = self.now()

    def expire_tokens(self) -> None:
        """Every access token expires (the next call answers 401)."""
        self.backend.tokens.clear()

    def fail_next_create(self, every: int = 2) -> None:
        """The next batch create fails every ``every``-th record of its batch (and only those)."""
        self.faults.partial_batch(fail_every=every, path_contains="/batch/create", times=1)

    def fail_activity_creates(self, *fails: bool) -> None:
        """The next activity creates fail or not, one flag each (``False, True``: the second fails)."""
        self.backend.activity_faults.extend(fails)

    def fail_next(self, *errors: ToyCrmError) -> None:
        """The next requests fail with these errors, one each (a 429, a 500, a used-up quota …)."""
        for error in errors:
            self.faults.fail_next(1, error.status, retry_after=error.retry_after, detail=error)


def create_sandbox(*, seed: int = 0, deals: int = 12, latency: float = 0.0, port: int = 0) -> ToyCrm:
    """The ``register_simulators`` factory: a seeded workspace (``onboard-sync sandbox toycrm``)."""
    return ToyCrm("sandbox", client_secret=f"toycrm-sandbox-secret-{seed}", latency=latency, port=port).seed(deals)


# --- ToyCRM's hooks for the shared middleware --------------------------------------------------------------
def per_token(request: SimRequest) -> str:
    return request.credential.token if request.credential else ""


def render_error(request: SimRequest, exc: Exception) -> Reply:
    if not isinstance(exc, ToyCrmError):
        exc = ToyCrmError(500, f"simulator error: {type(exc).__name__}", code="internal")
    headers = {"Retry-After": str(exc.retry_after)} if exc.retry_after is not None else {}
    return Reply(exc.status, {"code": exc.code, "message": exc.message}, headers)


def no_route(request: SimRequest) -> ToyCrmError:
    return ToyCrmError(404, f"no route {request.method} {request.path}", code="not_found")


def injected(failure: Failure, request: SimRequest) -> Reply:
    error = failure.detail
    if not isinstance(error, ToyCrmError):
        error = ToyCrmError(failure.status, "injected failure", code="injected", retry_after=failure.retry_after)
    return render_error(request, error)


def refuse(request: SimRequest, refusal: AuthRefusal) -> Reply:
    return render_error(request, ToyCrmError(401, "the access token expired or is not valid", code="session_expired"))


def limited(request: SimRequest, policy: LimitPolicy) -> Reply:
    wait = policy.counter.retry_after(policy.key(request)) if isinstance(policy.counter, RollingWindow) else 1
    return render_error(request, ToyCrmError(429, "slow down", code="rate_limited", retry_after=wait))


__all__ = ["ToyCrm", "ToyCrmError", "create_sandbox"]
