"""HubSpot sandbox: auth (private app, revocation, OAuth refresh and expiry), rate limits, faults, latency."""

from __future__ import annotations

import json
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest
from hubspot import HubSpot
from hubspot.crm.deals.exceptions import ApiException, UnauthorizedException
from hubspot.crm.objects.tasks.exceptions import ApiException as TasksApiException

from onboard_sync.sandbox import SandboxClock
from onboard_sync.sandbox.hubspot import HubSpotSandbox


def test_missing_or_invalid_token_is_401(sb: HubSpotSandbox) -> None:
    for headers in ({}, {"Authorization": "Bearer pat-na1-nope"}, {"Authorization": "Basic abc"}):
        response = httpx.get(f"{sb.base_url}/crm/v3/objects/deals", headers=headers)
        assert response.status_code == 401
        body = response.json()
        assert body["category"] == "INVALID_AUTHENTICATION"
        assert body["status"] == "error"
        assert body["correlationId"]
        assert body["message"].startswith("Authentication credentials not found")


def test_revoked_token_is_401_until_cleared(sb: HubSpotSandbox, client: HubSpot) -> None:
    sb.faults.revoke_token()
    with pytest.raises(UnauthorizedException) as excinfo:
        client.crm.deals.basic_api.get_page()
    assert excinfo.value.status == 401
    assert "INVALID_AUTHENTICATION" in excinfo.value.body
    sb.faults.clear()
    assert len(client.crm.deals.basic_api.get_page(limit=5).results) == 5


def test_oauth_refresh_issues_expiring_access_tokens(sb: HubSpotSandbox, clock: SandboxClock) -> None:
    refresh = sb.oauth_client("client-1", "secret-1")
    anon = HubSpot(host=sb.base_url)
    tokens = anon.oauth.tokens_api.create(
        grant_type="refresh_token", client_id="client-1", client_secret="secret-1", refresh_token=refresh
    )
    assert tokens.expires_in == 1800
    assert tokens.refresh_token == refresh
    assert tokens.token_type == "bearer"
    oauth_client = HubSpot(access_token=tokens.access_token, host=sb.base_url)
    response = httpx.get(
        f"{sb.base_url}/crm/v3/objects/deals", headers={"Authorization": f"Bearer {tokens.access_token}"}
    )
    assert response.status_code == 200
    assert "X-HubSpot-RateLimit-Daily" not in response.headers
    clock.advance(seconds=1801)
    with pytest.raises(UnauthorizedException) as excinfo:
        oauth_client.crm.deals.basic_api.get_page()
    assert "expired" in json.loads(excinfo.value.body)["message"]
    bad = httpx.post(
        f"{sb.base_url}/oauth/v1/token",
        data={
            "grant_type": "refresh_token",
            "client_id": "client-1",
            "client_secret": "secret-1",
            "refresh_token": "x",
        },
    )
    assert bad.status_code == 400
    assert bad.json()["status"] == "BAD_REFRESH_TOKEN"


def test_account_info_for_auth_checks(http: httpx.Client) -> None:
    details = http.get("/account-info/v3/details").json()
    assert details["timeZone"] == "UTC"
    assert isinstance(details["portalId"], int)


def test_ten_secondly_limit_429_body_headers_and_sdk_exception(make_sandbox: Any, clock: SandboxClock) -> None:
    sb = make_sandbox(deals=3, clock=clock, rate_limit=(5, 10.0))
    client = HubSpot(access_token=sb.token, host=sb.base_url)
    for _ in range(5):
        client.crm.deals.basic_api.get_page()
    with pytest.raises(ApiException) as excinfo:
        client.crm.deals.basic_api.get_page()
    error = excinfo.value
    assert error.status == 429
    body = json.loads(error.body)
    assert body["policyName"] == "TEN_SECONDLY_ROLLING"
    assert body["errorType"] == "RATE_LIMIT"
    assert body["message"] == "You have reached your ten_secondly_rolling limit."
    assert error.headers["X-HubSpot-RateLimit-Remaining"] == "0"
    assert error.headers["X-HubSpot-RateLimit-Max"] == "5"
    assert error.headers["X-HubSpot-RateLimit-Interval-Milliseconds"] == "10000"
    assert "Retry-After" not in error.headers
    clock.advance(seconds=10)
    page = client.crm.deals.basic_api.get_page_with_http_info()
    assert page[1] == 200
    assert page[2]["X-HubSpot-RateLimit-Remaining"] == "4"


def test_daily_and_search_limits(make_sandbox: Any, clock: SandboxClock) -> None:
    sb = make_sandbox(deals=3, clock=clock, daily_limit=3, search_rate=2.0)
    client = HubSpot(access_token=sb.token, host=sb.base_url)
    client.crm.deals.search_api.do_search(public_object_search_request={})
    client.crm.deals.search_api.do_search(public_object_search_request={})
    with pytest.raises(ApiException) as secondly:
        client.crm.deals.search_api.do_search(public_object_search_request={})
    assert secondly.value.status == 429
    assert json.loads(secondly.value.body)["policyName"] == "SECONDLY"
    clock.advance(seconds=1)
    assert client.crm.deals.basic_api.get_page() is not None  # third request of the day
    with pytest.raises(ApiException) as daily:
        client.crm.deals.basic_api.get_page()
    assert json.loads(daily.value.body)["policyName"] == "DAILY"
    clock.advance(days=1)
    assert client.crm.deals.basic_api.get_page() is not None


def test_fail_next_with_status_path_and_retry_after(sb: HubSpotSandbox, client: HubSpot, http: httpx.Client) -> None:
    sb.faults.fail_next(2, status=503, path_contains="/tasks", retry_after=0)
    assert http.get("/crm/v3/objects/deals").status_code == 200  # not matching
    first = http.get("/crm/v3/objects/tasks")
    assert first.status_code == 503
    assert first.headers["Retry-After"] == "0"
    assert first.headers["content-type"] == "application/json;charset=utf-8"
    # urllib3 (inside the SDK) silently retries a GET answered 503 + Retry-After: the second fault is eaten
    assert client.crm.objects.tasks.basic_api.get_page() is not None
    assert [r.status for r in sb.requests] == [200, 503, 503, 200]
    sb.faults.fail_next(1, status=502)
    with pytest.raises(TasksApiException) as excinfo:
        client.crm.objects.tasks.basic_api.get_page()
    assert excinfo.value.status == 502
    assert json.loads(excinfo.value.body)["status"] == "error"
    sb.faults.fail_next(1, status=429)
    limited = http.get("/crm/v3/objects/deals")
    assert limited.status_code == 429
    assert limited.json()["policyName"] == "TEN_SECONDLY_ROLLING"
    assert "Retry-After" not in limited.headers


def test_latency_is_concurrent(make_sandbox: Any) -> None:
    sb = make_sandbox(deals=3, latency=0.2)
    with (
        httpx.Client(
            base_url=sb.base_url,
            headers={"Authorization": f"Bearer {sb.token}"},
            limits=httpx.Limits(max_connections=20),
        ) as http,
        ThreadPoolExecutor(max_workers=10) as pool,
    ):
        assert http.get("/crm/v3/objects/deals").status_code == 200  # warm up
        start = time.perf_counter()
        statuses = list(pool.map(lambda _: http.get("/crm/v3/objects/deals").status_code, range(10)))
        elapsed = time.perf_counter() - start
    assert statuses == [200] * 10
    assert 0.2 <= elapsed < 1.0  # serially it would take 2 s


def test_request_log_counts_templates_and_clears(sb: HubSpotSandbox, client: HubSpot) -> None:
    deal_id = next(iter(sb.backend.deals))
    client.crm.deals.basic_api.get_by_id(deal_id)
    client.crm.deals.basic_api.get_by_id(deal_id)
    client.crm.owners.owners_api.get_page()
    counts = sb.request_counts()
    assert counts["GET /crm/v3/objects/deals/{objectId}"] == 2
    assert counts["GET /crm/v3/owners/"] == 1
    assert sb.requests[0].path == f"/crm/v3/objects/deals/{deal_id}"
    assert sb.requests[0].status == 200
    assert sb.requests.writes() == []
    sb.requests.clear()
    assert sb.request_counts() == {}
