"""The sandboxes' request log names the caller's address and when each request came in and was answered."""

from __future__ import annotations

import httpx

from onboard_sync.sandbox.hubspot import HubSpotSandbox
from onboard_sync.sandbox.zendesk import ZendeskSandbox


def test_hubspot_log_records_client_address_and_the_request_span() -> None:
    with HubSpotSandbox(seed=3, deals=2, latency=0.05) as sb:
        reply = httpx.get(sb.base_url + "/crm/v3/owners/", headers={"Authorization": f"Bearer {sb.token}"})
        assert reply.status_code == 200
        (record,) = sb.requests
    assert record.client == "127.0.0.1"
    assert record.received is not None
    assert (record.at - record.received).total_seconds() >= 0.05, "received before the injected latency"


def test_zendesk_log_records_client_address() -> None:
    with ZendeskSandbox(seed=1) as zd:
        httpx.get(zd.base_url + "/api/v2/users/me.json", auth=(f"{zd.email}/token", zd.api_token))
        (record,) = zd.requests
    assert record.client == "127.0.0.1"
    assert record.received is not None
    assert record.received <= record.at
