"""The Zendesk sandbox over real HTTP: export semantics, limits, pagination, auth, faults, webhooks."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any

import httpx
import pytest

from onboard_sync.sandbox.clock import SandboxClock
from onboard_sync.sandbox.zendesk import TEST_SECRET, ZendeskSandbox, sign

COMPANIES = [("101", "Acme", "acme.example"), ("102", "Beta", "beta.example"), ("103", "Gamma", None)]


@pytest.fixture
def zd() -> Iterator[ZendeskSandbox]:
    clock = SandboxClock(frozen_at=datetime(2026, 11, 20, 12, 0, tzinfo=UTC))
    with ZendeskSandbox(seed=1, companies=COMPANIES, clock=clock) as sandbox:
        yield sandbox


def get(zd: ZendeskSandbox, path: str, **params: Any) -> httpx.Response:
    return httpx.get(zd.base_url + path, params=params, auth=(f"{zd.email}/token", zd.api_token))


def test_seed_links_companies_by_external_id_or_domain_plus_orphans(zd: ZendeskSandbox) -> None:
    orgs = {o["name"]: o for o in zd.backend.organizations.values()}
    assert orgs["Acme"]["external_id"] == "101"
    assert orgs["Beta"]["domain_names"] == ["beta.example"]
    assert orgs["Gamma"]["external_id"] == "103", "no domain: linked by external_id"
    assert {"Unlinked Org 1", "Unlinked Org 2"} <= set(orgs)


def test_cursor_export_start_time_end_of_stream_and_resume(zd: ZendeskSandbox) -> None:
    too_recent = get(zd, "/api/v2/incremental/tickets/cursor.json", start_time=int(zd.clock.now().timestamp()) - 30)
    assert too_recent.status_code == 400
    assert too_recent.json()["errors"][0]["code"] == "StartTimeTooRecent"

    first = get(zd, "/api/v2/incremental/tickets/cursor", start_time=0, per_page=2).json()
    total = len(zd.backend.tickets)
    assert len(first["tickets"]) == min(2, total)
    assert first["end_of_stream"] is (total <= 2)
    seen = [t["id"] for t in first["tickets"]]
    body = first
    while not body["end_of_stream"]:
        body = get(zd, "/api/v2/incremental/tickets/cursor", cursor=body["after_cursor"], per_page=2).json()
        seen += [t["id"] for t in body["tickets"]]
    assert sorted(seen) == sorted(zd.backend.tickets)

    # a change now is left out for a minute, then exported from the saved cursor
    zd.backend.update_ticket(seen[0], priority="urgent")
    assert get(zd, "/api/v2/incremental/tickets/cursor", cursor=body["after_cursor"]).json()["tickets"] == []
    zd.clock.advance(seconds=61)
    later = get(zd, "/api/v2/incremental/tickets/cursor", cursor=body["after_cursor"]).json()
    assert [t["id"] for t in later["tickets"]] == [seen[0]]
    assert later["end_of_stream"] is True


def test_time_based_organization_export_and_cursor_pagination(zd: ZendeskSandbox) -> None:
    body = get(zd, "/api/v2/incremental/organizations.json", start_time=0).json()
    assert body["count"] == len(zd.backend.organizations)
    assert body["end_of_stream"] is True
    assert f"start_time={body['end_time']}" in body["next_page"]
    page = get(zd, "/api/v2/organizations.json", **{"page[size]": 2}).json()
    assert page["meta"]["has_more"] is True
    nxt = httpx.get(page["links"]["next"], auth=(f"{zd.email}/token", zd.api_token)).json()
    assert nxt["organizations"][0]["id"] > page["organizations"][-1]["id"]
    assert get(zd, "/api/v2/organizations", **{"page[after]": "%%%"}).status_code == 400


def test_ten_exports_a_minute_then_429_with_retry_after(zd: ZendeskSandbox) -> None:
    for _ in range(10):
        assert get(zd, "/api/v2/incremental/users/cursor", start_time=0).status_code == 200
    refused = get(zd, "/api/v2/incremental/users/cursor", start_time=0)
    assert refused.status_code == 429
    assert 1 <= int(refused.headers["Retry-After"]) <= 60
    assert get(zd, "/api/v2/organizations").status_code == 200, "other endpoints are not export-limited"
    zd.clock.advance(seconds=61)
    assert get(zd, "/api/v2/incremental/users/cursor", start_time=0).status_code == 200


def test_auth_oauth_token_endpoint_and_faults(zd: ZendeskSandbox) -> None:
    assert httpx.get(zd.base_url + "/api/v2/users/me").json() == {"error": "Couldn't authenticate you"}
    zd.oauth_client("app", "shh")
    bad = httpx.post(zd.base_url + "/oauth/tokens", json={"grant_type": "client_credentials", "client_id": "app"})
    assert bad.status_code == 401
    grant = httpx.post(
        zd.base_url + "/oauth/tokens",
        json={
            "grant_type": "client_credentials",
            "client_id": "app",
            "client_secret": "shh",
            "scope": "read",
        },
    )
    assert grant.status_code == 201
    token = grant.json()["access_token"]
    headers = {"Authorization": f"Bearer {token}"}
    assert httpx.get(zd.base_url + "/api/v2/users/me.json", headers=headers).status_code == 200
    zd.clock.advance(seconds=1801)
    assert httpx.get(zd.base_url + "/api/v2/users/me.json", headers=headers).status_code == 401
    zd.faults.fail_next(1, status=503, path_contains="/organizations")
    assert get(zd, "/api/v2/organizations").status_code == 503
    assert get(zd, "/api/v2/organizations").status_code == 200
    assert zd.request_counts()["GET /api/v2/organizations"] == 2


def test_update_many_organizations_merges_fields_via_a_job(zd: ZendeskSandbox) -> None:
    org = next(iter(zd.backend.organizations.values()))
    org["organization_fields"]["keep"] = "me"
    answer = httpx.put(
        zd.base_url + "/api/v2/organizations/update_many.json",
        json={"organizations": [{"id": org["id"], "organization_fields": {"onboarding_phase": "kickoff"}}]},
        auth=(f"{zd.email}/token", zd.api_token),
    ).json()
    job = get(zd, f"/api/v2/job_statuses/{answer['job_status']['id']}.json").json()["job_status"]
    assert job["status"] == "completed"
    assert job["results"][0]["success"] is True
    assert zd.backend.organizations[org["id"]]["organization_fields"] == {
        "keep": "me",
        "onboarding_phase": "kickoff",
    }


def test_signature_matches_the_documented_vector() -> None:
    signature = sign(TEST_SECRET, "2021-07-25T10:00:00Z", b'{"say": "hello"}')
    assert signature == "gf3v0LzLRHPUnIdhbvwRDVEvzSb07/QN0GYjSNlkBT0="


def test_signed_webhook_delivery_to_a_url(zd: ZendeskSandbox) -> None:
    received: list[tuple[dict[str, str], bytes]] = []

    class Receiver(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            received.append((dict(self.headers), body))
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), Receiver)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        ticket = next(iter(zd.backend.tickets.values()))
        event = zd.webhooks.ticket_event(ticket)
        status = zd.webhooks.deliver(f"http://127.0.0.1:{server.server_port}/hook", event, duplicate=True)
    finally:
        server.shutdown()
    assert status == 200
    assert len(received) == 2, "at-least-once: the duplicate arrives too"
    headers, body = received[0]
    timestamp = headers["X-Zendesk-Webhook-Signature-Timestamp"]
    expected = base64.b64encode(hmac.new(TEST_SECRET.encode(), timestamp.encode() + body, hashlib.sha256).digest())
    assert headers["X-Zendesk-Webhook-Signature"] == expected.decode()
    payload = json.loads(body)
    assert payload["type"] == "zen:event-type:ticket.status_changed"
    assert payload["detail"]["id"] == str(ticket["id"])
    assert datetime.fromisoformat(timestamp.replace("Z", "+00:00")) - zd.clock.now() < timedelta(seconds=1)


def test_show_many_reads_tickets_by_id_with_their_metric_sets(zd: ZendeskSandbox) -> None:
    ids = sorted(zd.backend.tickets)[:3]
    answer = get(zd, "/api/v2/tickets/show_many.json", ids=",".join(map(str, [*ids, 999_999])), include="metric_sets")
    assert answer.status_code == 200
    body = answer.json()
    assert [t["id"] for t in body["tickets"]] == ids, "in the order asked, the unknown id left out"
    assert sorted(m["ticket_id"] for m in body["metric_sets"]) == [i for i in ids if i in zd.backend.metrics]
    assert body["metric_sets"], "the seed gives tickets metrics"
    assert get(zd, "/api/v2/tickets/show_many.json", ids="x").status_code == 400
    assert get(zd, "/api/v2/tickets/show_many.json", ids=",".join(["1"] * 101)).status_code == 400
