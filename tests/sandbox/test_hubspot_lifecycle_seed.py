"""HubSpot sandbox: server lifecycle, reset, and the deterministic seed data."""

from __future__ import annotations

import socket
import time
from collections import Counter
from datetime import UTC, datetime, timedelta

from hubspot import HubSpot

from onboard_sync.sandbox import SandboxClock
from onboard_sync.sandbox.common import parse_instant
from onboard_sync.sandbox.hubspot import CS_TEAM, HubSpotBackend, HubSpotSandbox, create_sandbox

FROZEN_AT = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)


def test_start_blocks_until_accepting_and_stop_releases_the_port() -> None:
    for _ in range(4):
        sb = HubSpotSandbox(deals=3).start()
        assert sb.base_url.startswith("http://127.0.0.1:")
        assert not sb.base_url.endswith("/")
        with socket.create_connection(("127.0.0.1", sb.port), timeout=1):
            pass
        port = sb.port
        sb.stop()
        assert not sb.running
        probe = socket.socket()
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        probe.bind(("127.0.0.1", port))  # free again
        probe.close()


def test_context_manager_and_factory_serve_the_sdk() -> None:
    with create_sandbox(seed=1, deals=5) as sb:
        assert sb.token.startswith("pat-na1-")
        client = HubSpot(access_token=sb.token, host=sb.base_url)
        assert len(client.crm.deals.get_all()) == 5
    assert not sb.running


def test_restart_same_object_on_a_fixed_port() -> None:
    sb = HubSpotSandbox(deals=2).start()
    port = sb.port
    sb.stop()
    fixed = HubSpotSandbox(deals=2, port=port).start()
    try:
        assert fixed.port == port
        assert len(HubSpot(access_token=fixed.token, host=fixed.base_url).crm.deals.get_all()) == 2
    finally:
        fixed.stop()


def test_reset_restores_the_seeded_state(sb: HubSpotSandbox, client: HubSpot) -> None:
    deal_id = next(iter(sb.backend.deals))
    before = dict(sb.backend.deals[deal_id].properties)
    client.crm.deals.basic_api.update(deal_id, simple_public_object_input={"properties": {"dealname": "Changed"}})
    sb.backend.create("tasks", {"hs_timestamp": "2026-03-05T10:00:00Z", "hs_task_subject": "x"})
    sb.faults.revoke_token()
    sb.reset()
    assert sb.backend.deals[deal_id].properties == before
    assert sb.backend.tasks == {}
    assert sb.requests == []
    assert len(client.crm.deals.get_all()) == 40  # token valid again


def test_same_seed_same_ids_and_data_different_seed_differs() -> None:
    clock = SandboxClock(frozen_at=FROZEN_AT)
    a, b = HubSpotBackend(seed=3, deals=300, clock=clock), HubSpotBackend(seed=3, deals=300, clock=clock)
    c = HubSpotBackend(seed=4, deals=300, clock=clock)
    assert list(a.deals) == list(b.deals)
    assert [d.properties for d in a.deals.values()] == [d.properties for d in b.deals.values()]
    assert [x.properties for x in a.contacts.values()] == [x.properties for x in b.contacts.values()]
    assert [a.associations("deals", i, "contacts") for i in a.deals] == [
        b.associations("deals", i, "contacts") for i in b.deals
    ]
    assert [d.properties for d in a.deals.values()] != [d.properties for d in c.deals.values()]


def test_ten_thousand_deals_seed_fast_with_realistic_distribution() -> None:
    start = time.perf_counter()
    backend = HubSpotBackend(seed=0, deals=10_000, clock=SandboxClock(frozen_at=FROZEN_AT))
    assert time.perf_counter() - start < 5.0
    deals = list(backend.deals.values())
    assert len(deals) == 10_000
    stages = Counter(d.properties["dealstage"] for d in deals)
    assert stages["closedwon"] == 2_000
    assert stages["closedlost"] == 1_000
    assert {"appointmentscheduled", "contractsent"} <= set(stages)
    won = [d for d in deals if d.properties["dealstage"] == "closedwon"]
    closes = [FROZEN_AT - backend_time(d.properties["closedate"]) for d in won]
    assert all(timedelta(0) < age <= timedelta(days=22) for age in closes)
    assert max(closes) - min(closes) > timedelta(days=15)  # spread over ~3 weeks
    amounts = [int(d.properties["amount"]) for d in won]
    segments = Counter("smb" if a < 25_000 else "mid" if a < 100_000 else "ent" for a in amounts)
    assert all(segments[s] > 100 for s in ("smb", "mid", "ent"))
    sales = {o.id for o in backend.owners.values() if o.team != CS_TEAM}
    for deal in deals[:500]:
        assert backend.association_types("deals", deal.id, "companies") == {
            backend.associations("deals", deal.id, "companies")[0]: [5, 341]
        }
        assert 1 <= len(backend.associations("deals", deal.id, "contacts")) <= 3
        assert deal.properties["hubspot_owner_id"] in sales
        assert deal.properties["createdate"].endswith("Z")
        assert len(deal.properties["createdate"]) == 24
        assert all(isinstance(v, str) for v in deal.properties.values())


def backend_time(value: str) -> datetime:
    parsed = parse_instant(value)
    assert parsed is not None
    return parsed


def test_owners_companies_contacts_conventions(sb: HubSpotSandbox) -> None:
    owners = sb.backend.owners.values()
    assert len(owners) == 8
    cs = [o for o in owners if o.team == CS_TEAM]
    assert len(cs) == 4
    assert all(o.email.endswith(".cs@example.test") and o.is_cs for o in cs)
    assert "ana.sales@example.test" in {o.email for o in owners}
    company = next(iter(sb.backend.companies.values())).properties
    assert {"name", "domain", "numberofemployees", "industry"} <= set(company)
    contact_id = next(iter(sb.backend.contacts))
    assert sb.backend.association_types("contacts", contact_id, "companies").popitem()[1] == [1, 279]


def test_small_requests_are_fast_no_nagle_delay(sb: HubSpotSandbox) -> None:
    """Regression: without TCP_NODELAY on accepted sockets every response waited ~40 ms."""
    client = HubSpot(access_token=sb.token, host=sb.base_url)
    api = client.crm.deals.basic_api
    deal_id = next(iter(sb.backend.deals))
    api.get_by_id(deal_id)
    start = time.perf_counter()
    for _ in range(40):
        api.get_by_id(deal_id)
    assert time.perf_counter() - start < 1.2  # 40 x 40 ms would be 1.6 s


def test_object_type_ids_are_aliases(sb: HubSpotSandbox) -> None:
    client = HubSpot(access_token=sb.token, host=sb.base_url)
    by_id = client.crm.objects.basic_api.get_page(object_type="0-3", limit=100)
    assert sorted(d.id for d in by_id.results) == sorted(sb.backend.deals)
    assert sb.request_counts()["GET /crm/v3/objects/0-3"] == 1
