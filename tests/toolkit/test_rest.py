"""RestClient, the auth schemes and RestConnector over respx, through a real ApiGate on a fake clock."""

from __future__ import annotations

import base64
import json
import threading
from collections.abc import Callable
from typing import Any, ClassVar

import httpx
import pytest
import respx

from onboard_sync.calls.gate import ApiGate, WriteRefused
from onboard_sync.connector import Capability, ConnectorSettings
from onboard_sync.errors import ApiError, AuthError, PagingError, RateLimitExhausted
from onboard_sync.toolkit import (
    ApiKeyAuth,
    Auth,
    BasicAuth,
    BearerTokenAuth,
    CursorPaginator,
    HttpError,
    OAuth2Auth,
    RestConnector,
)

BASE = "https://api.crm.test"


class Clock:
    def __init__(self) -> None:
        self.now = 0.0
        self.slept: list[float] = []

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


class Crm(RestConnector):
    type_name: ClassVar[str] = "crm"
    capabilities: ClassVar[frozenset[Capability]] = frozenset({Capability.DEAL_SOURCE})
    settings_model: ClassVar[type[ConnectorSettings]] = ConnectorSettings
    retryable_statuses: ClassVar[frozenset[int]] = frozenset({409, 429})
    scheme: Auth

    def base_url(self) -> str:
        return BASE

    def authenticator(self) -> Auth:
        return self.scheme

    def quota_exhausted(self, error: HttpError) -> bool:
        return "daily" in error.body

    def check_auth(self) -> str:
        return str(self.rest.request("me", "GET", "/v1/me")["name"])


Scheme = Callable[[dict[str, str]], Auth]


def crm(scheme: Scheme | None = None, secrets: dict[str, str] | None = None, **gate: Any) -> tuple[Crm, ApiGate, Clock]:
    """A connector on ``BASE`` wired as the runtime wires it, its gate and the gate's fake clock."""
    clock = Clock()
    api_gate = ApiGate(sleep=clock.sleep, clock=lambda: clock.now, **gate)
    values = secrets if secrets is not None else {"CRM_TOKEN": "tok-123456"}
    conn = Crm("crm", ConnectorSettings(type="crm"), values, api_gate)
    conn.scheme = (scheme or (lambda s: BearerTokenAuth(s, "CRM_TOKEN", "connectors.crm")))(values)
    api_gate.bind_connector(conn)
    return conn, api_gate, clock


@respx.mock
def test_a_request_goes_through_the_gate_with_the_token_and_retries_a_429() -> None:
    route = respx.get(f"{BASE}/v1/me").mock(
        side_effect=[httpx.Response(429, headers={"Retry-After": "4"}), httpx.Response(200, json={"name": "Ada"})]
    )
    conn, gate, clock = crm()
    assert conn.check_auth() == "Ada"
    assert route.calls.last.request.headers["Authorization"] == "Bearer tok-123456"
    assert gate.calls["me"] == 2
    assert clock.slept == [4.0]


@respx.mock
def test_errors_are_classified_with_the_vendors_words_and_no_secret() -> None:
    respx.get(f"{BASE}/v1/me").mock(return_value=httpx.Response(400, json={"message": "bad token tok-123456"}))
    conn, gate, _ = crm()
    with pytest.raises(ApiError) as info:
        conn.check_auth()
    assert (info.value.status, info.value.endpoint, info.value.retryable) == (400, "me", False)
    assert "tok-123456" not in str(info.value)
    assert "bad token ***" in str(info.value)
    respx.get(f"{BASE}/v1/quota").mock(return_value=httpx.Response(429, json={"error": "daily limit"}))
    with pytest.raises(RateLimitExhausted):
        conn.rest.request("quota", "GET", "/v1/quota")
    assert gate.calls["quota"] == 1, "a used-up quota is not retried"
    respx.get(f"{BASE}/v1/busy").mock(side_effect=[httpx.Response(409), httpx.Response(200, json={})])
    assert conn.rest.request("busy", "GET", "/v1/busy") == {}, "a vendor's own transient status is retried"


@respx.mock
def test_writes_are_refused_in_plan_before_they_are_sent() -> None:
    route = respx.post(f"{BASE}/v1/tasks").mock(return_value=httpx.Response(200, json={}))
    conn, gate, _ = crm(plan_mode=True)
    with pytest.raises(WriteRefused):
        conn.rest.request("tasks.create", "POST", "/v1/tasks", json={}, write=True)
    assert not route.called
    assert gate.total_calls == 0


@respx.mock
def test_a_static_token_refused_is_an_auth_error_at_once() -> None:
    respx.get(f"{BASE}/v1/me").mock(return_value=httpx.Response(401, json={"message": "expired"}))
    conn, gate, _ = crm()
    with pytest.raises(AuthError, match="HTTP 401 on me"):
        conn.check_auth()
    assert gate.calls["me"] == 1
    assert gate.renewals == 0


def test_missing_secrets_name_the_variable() -> None:
    conn, gate, _ = crm(secrets={})
    with pytest.raises(AuthError, match="CRM_TOKEN") as info:
        conn.check_auth()
    assert info.value.where == "connectors.crm"
    assert gate.total_calls == 0


@respx.mock
def test_api_key_in_a_header_or_the_query_and_basic_auth() -> None:
    route = respx.get(f"{BASE}/v1/me").mock(return_value=httpx.Response(200, json={"name": "x"}))
    secrets = {"KEY": "key-abcdef"}
    crm(lambda s: ApiKeyAuth(s, "KEY", "w"), secrets)[0].check_auth()
    assert route.calls.last.request.headers["X-Api-Key"] == "key-abcdef"
    crm(lambda s: ApiKeyAuth(s, "KEY", "w", query="api_token"), secrets)[0].check_auth()
    assert route.calls.last.request.url.params["api_token"] == "key-abcdef"
    crm(lambda s: BasicAuth("a@b.c/token", s, "KEY", "w"), secrets)[0].check_auth()
    expected = base64.b64encode(b"a@b.c/token:key-abcdef").decode()
    assert route.calls.last.request.headers["Authorization"] == f"Basic {expected}"


def oauth(**extra: Any) -> Scheme:
    return lambda s: OAuth2Auth("/oauth/token", "client-1", "CRM_SECRET", s, "connectors.crm", **extra)


@respx.mock
def test_oauth_fetches_a_token_through_the_gate_and_renews_it_once_on_a_401() -> None:
    tokens = iter(["t1", "t2"])
    grant = respx.post(f"{BASE}/oauth/token").mock(
        side_effect=lambda req: httpx.Response(200, json={"access_token": next(tokens), "expires_in": 3600})
    )
    seen: list[str] = []

    def me(request: httpx.Request) -> httpx.Response:
        seen.append(request.headers["Authorization"])
        ok = request.headers["Authorization"] == "Bearer t2"
        return httpx.Response(200, json={"name": "Ada"}) if ok else httpx.Response(401)

    respx.get(f"{BASE}/v1/me").mock(side_effect=me)
    conn, gate, _ = crm(oauth(), {"CRM_SECRET": "s3cret-value"})
    assert conn.check_auth() == "Ada"
    assert seen == ["Bearer t1", "Bearer t2"]
    assert gate.calls == {"oauth.token": 2, "me": 2}, "the token requests are gated and counted"
    assert gate.renewals == 1
    body = json.loads(grant.calls[0].request.content)
    assert body == {"client_id": "client-1", "client_secret": "s3cret-value", "grant_type": "client_credentials"}
    assert "Authorization" not in grant.calls[0].request.headers


@respx.mock
def test_oauth_renews_before_expiry_and_keeps_a_rotated_refresh_token() -> None:
    answers = iter(
        [
            {"access_token": "t1", "expires_in": 600, "refresh_token": "r2"},
            {"access_token": "t2", "expires_in": 600},
        ]
    )
    grant = respx.post(f"{BASE}/oauth/token").mock(side_effect=lambda req: httpx.Response(200, json=next(answers)))
    respx.get(f"{BASE}/v1/me").mock(return_value=httpx.Response(200, json={"name": "x"}))
    conn, gate, clock = crm(oauth(refresh_token_env="CRM_REFRESH", form=True), {"CRM_SECRET": "s", "CRM_REFRESH": "r1"})
    conn.check_auth()
    clock.now += 545  # within a minute of the expiry: renewed before the call, no 401
    conn.check_auth()
    first, second = (dict(httpx.QueryParams(c.request.content.decode())) for c in grant.calls)
    assert (first["grant_type"], first["refresh_token"]) == ("refresh_token", "r1")
    assert second["refresh_token"] == "r2", "the rotated refresh token is used"
    assert gate.renewals == 0
    assert "r2" in conn.secret_values()


@respx.mock
def test_a_refused_grant_is_an_auth_error_naming_the_variables_and_is_never_renewed_in_a_loop() -> None:
    respx.post(f"{BASE}/oauth/token").mock(return_value=httpx.Response(401, json={"error": "invalid_client"}))
    conn, gate, _ = crm(oauth(), {"CRM_SECRET": "wrong-secret"})
    with pytest.raises(AuthError, match=r"client_credentials grant was refused.*CRM_SECRET") as info:
        conn.check_auth()
    assert "wrong-secret" not in str(info.value)
    assert gate.calls == {"oauth.token": 1}


def test_concurrent_401s_renew_an_oauth_token_once() -> None:
    """Two threads refused with the same token: the second finds it renewed already."""
    conn, _, _ = crm(oauth(), {"CRM_SECRET": "s"})
    fetched: list[int] = []
    scheme = conn.rest.auth
    assert isinstance(scheme, OAuth2Auth)
    scheme._fetch = lambda client: fetched.append(1) or setattr(scheme, "generation", scheme.generation + 1)  # type: ignore[method-assign]
    stale = scheme.generation
    results = []
    threads = [threading.Thread(target=lambda: results.append(scheme.renew(conn.rest, stale))) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == [True, True]
    assert fetched == [1]


@respx.mock
def test_pages_and_whole_reads_through_a_paginator() -> None:
    pages = {None: {"results": [1, 2], "next": "c1"}, "c1": {"results": [3], "next": None}}
    route = respx.get(f"{BASE}/v1/deals").mock(
        side_effect=lambda req: httpx.Response(200, json=pages[req.url.params.get("after")])
    )
    conn, gate, _ = crm()
    paginator = CursorPaginator("next", "after")
    first = conn.rest.page("deals.search", "/v1/deals", paginator, None, params={"stage": "won"})
    assert (first.records, first.next_token) == ([1, 2], "c1")
    assert route.calls.last.request.url.params["stage"] == "won"
    assert conn.rest.records("deals.search", "/v1/deals", paginator) == [1, 2, 3]
    assert gate.calls["deals.search"] == 3
    pages["c1"] = {"results": [3], "next": "c2"}
    pages["c2"] = {"results": [4], "next": "c1"}
    with pytest.raises(PagingError, match="'c1' came back"):
        conn.rest.records("deals.search", "/v1/deals", paginator)
    pages["c2"] = {"results": [4], "next": "c3"}
    pages["c3"] = {"results": [5], "next": "c4"}
    with pytest.raises(PagingError, match="more than 3 pages"):
        conn.rest.records("deals.search", "/v1/deals", paginator, max_pages=3)


@respx.mock
def test_a_connection_failure_is_retried_then_reported_without_secrets() -> None:
    respx.get(f"{BASE}/v1/me").mock(side_effect=httpx.ConnectError("refused"))
    conn, gate, _ = crm()
    with pytest.raises(ApiError) as info:
        conn.check_auth()
    assert info.value.status == 0
    assert gate.calls["me"] == gate.max_attempts
