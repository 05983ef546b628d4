"""The shared simulator parts on their own: a two-route CRM built from them, served over real HTTP.

Checks what every simulator relies on: the route table (404/405, templates, macros, ``.json``
suffixes), the order of the stages (faults before auth, auth before limits), per-route opt-outs,
revoked tokens, named limit policies and their headers, vendor error rendering and the request log.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import dataclass, field

import httpx
import pytest
from starlette.datastructures import Headers, QueryParams

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
)
from onboard_sync.sandbox.ratelimit import DailyCounter, RollingWindow
from onboard_sync.sandbox.routing import Route, RouteTable

TOKEN = "good-token"


class Refused(Exception):
    """The tiny CRM's own error type, rendered by its ``VendorErrors`` hook."""


def get_deal(request: SimRequest) -> Reply:
    if request.params["id"] == "boom":
        raise Refused("no such deal")
    if request.params["id"] == "bug":
        raise RuntimeError("simulator bug")
    return Reply(200, {"id": request.params["id"], "as": request.credential.kind if request.credential else None})


def login(request: SimRequest) -> Reply:
    return Reply(200, {"access_token": TOKEN})


ROUTES = RouteTable(
    [
        Route("POST", "/login", login, auth=False, faults=False),
        Route("GET", "/v1/{kind}/{id}", get_deal, limits=("burst", "daily")),
        Route("DELETE", "/v1/{kind}/{id}", get_deal, limits=("off",)),
    ],
    keep={"kind"},
)


@dataclass
class TinyCrm:
    """What a plugin author writes: state, a table, hooks, and the shared stages around them."""

    clock: SandboxClock = field(default_factory=SandboxClock)
    faults: FaultInjector = field(default_factory=lambda: FaultInjector(TOKEN))
    requests: RequestLog = field(default_factory=RequestLog)
    burst: RollingWindow | None = None
    daily: DailyCounter | None = None

    def app(self) -> SimulatorApp:
        self.burst = RollingWindow(2, 10.0, self.clock)
        self.daily = DailyCounter(1000, self.clock)

        def check(request: SimRequest) -> Credential | AuthRefusal:
            token = request.bearer_token()
            return (
                Credential(token, "api") if token == TOKEN else AuthRefusal("missing" if token is None else "invalid")
            )

        def refuse(request: SimRequest, refusal: AuthRefusal) -> Reply:
            return Reply(401, {"error": refusal.reason})

        def injected(failure: Failure, request: SimRequest) -> Reply:
            return Reply(failure.status, {"error": "injected"}, {"Retry-After": f"{failure.retry_after or 0:g}"})

        def limited(request: SimRequest, policy: LimitPolicy) -> Reply:
            return Reply(429, {"error": f"{policy.name} limit"})

        def headers(request: SimRequest, reply: Reply) -> dict[str, str]:
            return {"X-Left": str(request.limits["burst"])}

        def render(request: SimRequest, exc: Exception) -> Reply:
            return Reply(404 if isinstance(exc, Refused) else 500, {"error": str(exc)})

        policies = {
            "burst": LimitPolicy("burst", self.burst, key=lambda r: r.credential.token if r.credential else ""),
            "daily": LimitPolicy("daily", self.daily),
            "off": None,
        }
        return SimulatorApp(
            [
                RequestLogging(self.requests, self.clock),
                Latency(lambda: 0.0),
                VendorErrors(render),
                Routing(ROUTES, lambda request, known: Reply(405 if known else 404, {"error": "no route"})),
                Faults(self.faults, injected),
                Authentication(check, refuse, self.faults),
                RateLimits(policies, limited, headers),
            ]
        )


@pytest.fixture
def crm() -> Iterator[tuple[TinyCrm, httpx.Client]]:
    tiny = TinyCrm()
    server = ServerThread(tiny.app(), name="tiny-crm")
    server.start()
    try:
        with httpx.Client(base_url=server.base_url, headers={"Authorization": f"Bearer {TOKEN}"}) as client:
            yield tiny, client
    finally:
        server.stop()


def test_a_matched_route_gets_its_params_and_credential_and_the_log_records_its_template(
    crm: tuple[TinyCrm, httpx.Client],
) -> None:
    tiny, client = crm
    answer = client.get("/v1/deals/42")
    assert answer.status_code == 200
    assert answer.json() == {"id": "42", "as": "api"}
    assert answer.headers["X-Left"] == "1"
    assert [(r.method, r.path, r.template, r.status, r.client) for r in tiny.requests] == [
        ("GET", "/v1/deals/42", "/v1/deals/{id}", 200, "127.0.0.1")
    ]
    assert tiny.requests[0].received is not None
    assert tiny.requests[0].received <= tiny.requests[0].at
    assert tiny.requests.counts() == {"GET /v1/deals/{id}": 1}


def test_unknown_paths_are_404_and_known_paths_with_another_method_405(crm: tuple[TinyCrm, httpx.Client]) -> None:
    tiny, client = crm
    assert client.get("/nowhere").status_code == 404
    assert client.put("/v1/deals/1").status_code == 405
    assert [r.template for r in tiny.requests] == ["/nowhere", "/v1/deals/1"], "unmatched: the raw path"


def test_faults_answer_before_auth_and_a_route_may_opt_out(crm: tuple[TinyCrm, httpx.Client]) -> None:
    tiny, client = crm
    tiny.faults.fail_next(2, status=503, retry_after=3)
    assert client.post("/login").status_code == 200, "the login route is never hit by faults"
    refused = client.get("/v1/deals/1", headers={"Authorization": "Bearer wrong"})
    assert (refused.status_code, refused.headers["Retry-After"]) == (503, "3"), "the fault, not the 401"
    assert client.get("/v1/deals/1").status_code == 503
    assert client.get("/v1/deals/1").status_code == 200, "two failures armed, two used"


def test_auth_refusals_are_the_vendors_and_a_revoked_token_is_refused(crm: tuple[TinyCrm, httpx.Client]) -> None:
    tiny, client = crm
    missing = client.get("/v1/deals/1", headers={"Authorization": ""})
    assert (missing.status_code, missing.json()) == (401, {"error": "missing"})
    tiny.faults.revoke_token()
    assert client.get("/v1/deals/1").json() == {"error": "invalid"}
    assert tiny.burst is not None
    assert tiny.burst.hit(TOKEN)[1] == 1, "refused requests were not counted: one before, this one"
    tiny.faults.restore_token()
    assert client.get("/v1/deals/1").status_code == 200


def test_limit_policies_count_in_order_and_the_first_refusal_answers(crm: tuple[TinyCrm, httpx.Client]) -> None:
    tiny, client = crm
    assert [client.get("/v1/deals/1").status_code for _ in range(3)] == [200, 200, 429]
    assert client.get("/v1/deals/1").json() == {"error": "burst limit"}
    assert tiny.daily is not None
    assert tiny.daily.used("account") == 2, "refused by burst: daily never counted"
    tiny.clock.advance(seconds=11)
    assert client.get("/v1/deals/1").status_code == 200, "the window rolled on"
    assert client.delete("/v1/deals/1").headers.get("X-Left") is None, "a switched-off policy counts nothing"


def test_exceptions_become_the_vendors_error_replies(crm: tuple[TinyCrm, httpx.Client]) -> None:
    tiny, client = crm
    refused, crashed = client.get("/v1/deals/boom"), client.get("/v1/deals/bug")
    assert (refused.status_code, refused.json()) == (404, {"error": "no such deal"})
    assert (crashed.status_code, crashed.json()) == (500, {"error": "simulator bug"})
    assert [r.status for r in tiny.requests] == [404, 500], "the log sees the rendered status"


def test_route_table_macros_suffixes_and_kept_parameters() -> None:
    table = RouteTable(
        [Route("GET", "{P}/query/{locator}", get_deal), Route("GET", "/api/v2/users/{id}", get_deal)],
        segment=r"[^/.]+",
        suffix=r"(?:\.json)?/?",
        macros={"P": r"/services/data/v(?P<version>\d+\.\d)"},
        keep={"locator"},
    )
    found, _ = table.match("GET", "/services/data/v59.0/query/01g-2000")
    assert found is not None
    assert found.params == {"version": "59.0", "locator": "01g-2000"}
    assert found.template == "{P}/query/01g-2000"
    users, _ = table.match("GET", "/api/v2/users/7.json")
    assert users is not None
    assert (users.params, users.template) == ({"id": "7"}, "/api/v2/users/{id}")
    assert table.match("GET", "/services/data/vX/query/1") == (None, False)
    assert table.match("POST", "/api/v2/users/7") == (None, True)


def test_a_limit_name_no_policy_defines_is_an_error_not_a_silent_pass() -> None:
    routes = RouteTable([Route("GET", "/x", login, auth=False, limits=("typo",))])
    app = SimulatorApp([Routing(routes, lambda r, k: Reply(404)), RateLimits({}, lambda r, p: Reply(429))])
    request = SimRequest("GET", "/x", QueryParams(""), Headers({}), b"", "http://127.0.0.1")
    with pytest.raises(KeyError, match="typo"):
        asyncio.run(app.run(request))
