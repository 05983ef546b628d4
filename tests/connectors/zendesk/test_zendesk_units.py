"""Zendesk connector units over respx: auth modes, cursor exports, metric sets, 429 via the gate, errors."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
import respx

from onboard_sync.calls.gate import ApiGate
from onboard_sync.connector import FieldWrite
from onboard_sync.connectors.zendesk.connector import ZendeskConnector
from onboard_sync.connectors.zendesk.settings import ZendeskSettings
from onboard_sync.errors import AuthError
from onboard_sync.records import ObjectKind
from onboard_sync.toolkit import HttpError

BASE = "https://acme.zendesk.com"


def make(secrets: dict[str, str], **settings: Any) -> tuple[ZendeskConnector, list[float]]:
    slept: list[float] = []
    now = [0.0]

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        now[0] += seconds

    gate = ApiGate(sleep=sleep, clock=lambda: now[0])
    conf = ZendeskSettings.model_validate({"type": "zendesk", "subdomain": "acme", **settings})
    connector = ZendeskConnector("zendesk", conf, secrets, gate)
    gate.bind_connector(connector)
    return connector, slept


def ticket(tid: int, org: int | None = 7, **extra: Any) -> dict[str, Any]:
    return {
        "id": tid,
        "subject": f"t{tid}",
        "status": "open",
        "priority": "urgent",
        "organization_id": org,
        "created_at": "2026-11-01T10:00:00Z",
        "updated_at": "2026-11-02T10:00:00Z",
        "generated_timestamp": 1_762_077_600,
        **extra,
    }


def test_settings_need_a_host() -> None:
    with pytest.raises(ValueError, match="subdomain"):
        ZendeskSettings.model_validate({"type": "zendesk"})
    assert ZendeskSettings.model_validate({"type": "zendesk", "subdomain": "acme"}).api_root == BASE


def test_no_credentials_is_an_auth_error_naming_the_variables() -> None:
    connector, _ = make({})
    with pytest.raises(AuthError, match=r"ZENDESK_OAUTH_TOKEN.*2027-04-30"):
        connector.read_tickets(since=None, page_token=None)


@respx.mock
def test_oauth_bearer_is_preferred_and_the_cursor_export_pages_until_end_of_stream() -> None:
    first = respx.get(f"{BASE}/api/v2/incremental/tickets/cursor.json", params={"start_time": 1_762_000_000}).mock(
        return_value=httpx.Response(
            200,
            json={
                "tickets": [ticket(1), ticket(2, org=None)],
                "metric_sets": [{"ticket_id": 1, "solved_at": "2026-11-03T00:00:00Z", "reopens": 1}],
                "after_cursor": "c1",
                "end_of_stream": False,
            },
        )
    )
    second = respx.get(f"{BASE}/api/v2/incremental/tickets/cursor.json", params={"cursor": "c1"}).mock(
        return_value=httpx.Response(200, json={"tickets": [ticket(3)], "after_cursor": "c2", "end_of_stream": True})
    )
    connector, _ = make({"ZENDESK_OAUTH_TOKEN": "oauth-abc", "ZENDESK_API_TOKEN": "tok"}, email="a@b.c")
    page = connector.read_tickets(since=datetime.fromtimestamp(1_762_000_000, UTC), page_token=None)
    assert first.calls.last.request.headers["Authorization"] == "Bearer oauth-abc"
    assert "include=metric_sets" in str(first.calls.last.request.url)
    assert page.next_token == "c1"
    one, two = page.records
    assert (one.id, one.account_id, one.priority, one.status) == ("1", "7", "urgent", "open")
    assert one.solved_at == datetime(2026, 11, 3, tzinfo=UTC)
    assert two.account_id is None
    last = connector.read_tickets(since=None, page_token="c1")
    assert second.called
    assert [t.id for t in last.records] == ["3"]
    assert last.next_token is None


@respx.mock
def test_api_token_basic_auth_while_it_lasts() -> None:
    route = respx.get(f"{BASE}/api/v2/users/me.json").mock(
        return_value=httpx.Response(200, json={"user": {"id": 9, "email": "a@b.c", "role": "admin"}})
    )
    connector, _ = make({"ZENDESK_API_TOKEN": "secret-token"}, email="a@b.c")
    assert "api-token" in connector.check_auth()
    expected = base64.b64encode(b"a@b.c/token:secret-token").decode()
    assert route.calls.last.request.headers["Authorization"] == f"Basic {expected}"


@respx.mock
def test_oauth_client_credentials_fetch_a_token_and_refetch_on_401() -> None:
    tokens = iter(["t1", "t2"])
    grant = respx.post(f"{BASE}/oauth/tokens").mock(
        side_effect=lambda req: httpx.Response(
            201, json={"access_token": next(tokens), "token_type": "bearer", "expires_in": 1800}
        )
    )
    seen: list[str] = []

    def me(req: httpx.Request) -> httpx.Response:
        seen.append(req.headers["Authorization"])
        if req.headers["Authorization"] == "Bearer t1":
            return httpx.Response(401, json={"error": "Couldn't authenticate you"})
        return httpx.Response(200, json={"user": {"id": 1, "name": "x"}})

    respx.get(f"{BASE}/api/v2/users/me.json").mock(side_effect=me)
    connector, _ = make({"ZENDESK_CLIENT_SECRET": "s3cret"}, client_id="onboard-sync")
    assert "oauth-client" in connector.check_auth()
    assert seen == ["Bearer t1", "Bearer t2"]
    body = json.loads(grant.calls[0].request.content)
    assert body["grant_type"] == "client_credentials"
    assert body["client_id"] == "onboard-sync"


@respx.mock
def test_429_with_retry_after_goes_through_the_gate() -> None:
    route = respx.get(f"{BASE}/api/v2/incremental/organizations.json").mock(
        side_effect=[
            httpx.Response(429, headers={"Retry-After": "1"}, json={"errors": [{"code": "TooManyRequests"}]}),
            httpx.Response(
                200,
                json={
                    "organizations": [
                        {
                            "id": 5,
                            "name": "Acme",
                            "domain_names": ["acme.com", "acme.io"],
                            "external_id": "123",
                            "organization_fields": {"crm_id": 123, "tier": None},
                            "updated_at": "2026-11-01T00:00:00Z",
                        }
                    ],
                    "end_time": 1_762_000_100,
                    "end_of_stream": True,
                },
            ),
        ]
    )
    connector, slept = make({"ZENDESK_OAUTH_TOKEN": "tok"})
    page = connector.read_ticket_accounts(since=datetime.fromtimestamp(1_762_000_000, UTC), page_token=None)
    assert route.call_count == 2
    assert 1 in [round(s) for s in slept]
    assert connector.call.summary()["retries"] == 1  # type: ignore[attr-defined]
    org = page.records[0]
    assert (org.id, org.domain, org.properties["domain_names"], org.properties["external_id"]) == (
        "5",
        "acme.com",
        "acme.com acme.io",
        "123",
    )
    assert org.properties["crm_id"] == "123"
    assert page.next_token is None


@respx.mock
def test_organization_fields_are_written_with_update_many_and_a_job() -> None:
    put = respx.put(f"{BASE}/api/v2/organizations/update_many.json").mock(
        return_value=httpx.Response(200, json={"job_status": {"id": "j1", "status": "queued"}})
    )
    respx.get(f"{BASE}/api/v2/job_statuses/j1.json").mock(
        return_value=httpx.Response(
            200,
            json={
                "job_status": {
                    "id": "j1",
                    "status": "completed",
                    "results": [
                        {"id": 5, "success": True},
                        {"id": 6, "success": False, "error": "RecordNotFound"},
                    ],
                }
            },
        )
    )
    connector, _ = make({"ZENDESK_OAUTH_TOKEN": "tok"})
    writes = [
        FieldWrite("k5", ObjectKind.ACCOUNT, "5", {"onboarding_phase": "kickoff"}),
        FieldWrite("k6", ObjectKind.ACCOUNT, "6", {"onboarding_phase": "kickoff"}),
    ]
    results = connector.write_fields(ObjectKind.ACCOUNT, writes)
    assert [(r.key, r.ok, r.error) for r in results] == [("k5", True, None), ("k6", False, "RecordNotFound")]
    sent = json.loads(put.calls[0].request.content)
    assert sent["organizations"][0] == {"id": 5, "organization_fields": {"onboarding_phase": "kickoff"}}


def test_error_bodies_are_zendesks_words_without_secrets() -> None:
    connector, _ = make({"ZENDESK_OAUTH_TOKEN": "oauth-secret-1"})
    cases = {
        '{"error":"RecordNotFound","description":"Not found"}': "RecordNotFound: Not found",
        '{"errors":[{"code":"X","title":"page[after] is not valid"}]}': "page[after] is not valid",
        "plain text": "plain text",
        '{"error":"invalid token oauth-secret-1"}': "invalid token ***",
    }
    assert connector.rest.auth.secret_values() == ("oauth-secret-1",)
    for body, text in cases.items():
        error = connector.classify_error(HttpError(422, body, "/api/v2/x.json"))
        assert error is not None
        assert str(error) == text
    assert connector.classify_error(HttpError(409, "{}", "/x")).retryable  # type: ignore[union-attr]


@respx.mock
def test_exports_wait_for_their_own_limit_which_counts_toward_the_account_limit() -> None:
    body = {"tickets": [], "after_cursor": None, "end_of_stream": True}
    route = respx.get(f"{BASE}/api/v2/incremental/tickets/cursor.json").mock(
        return_value=httpx.Response(200, json=body)
    )
    respx.get(f"{BASE}/api/v2/users/me.json").mock(return_value=httpx.Response(200, json={"user": {"id": 1}}))
    connector, slept = make({"ZENDESK_OAUTH_TOKEN": "tok"})
    for _ in range(10):
        connector.read_tickets(since=None, page_token=None)
    assert slept == [], "ten exports fit the minute and the account's burst"
    connector.check_auth()
    assert sum(slept) == pytest.approx(1 / 3, abs=0.01), "the exports used the account's bucket: the next call waits"
    connector.read_tickets(since=None, page_token=None)
    assert sum(slept) == pytest.approx(60.0, abs=0.5), "the eleventh export in a minute waits for the window"
    assert route.call_count == 11
