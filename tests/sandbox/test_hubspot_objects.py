"""HubSpot sandbox: CRUD and list endpoints through the official SDK, plus wire-level details."""

from __future__ import annotations

import httpx
import pytest
from hubspot import HubSpot
from hubspot.crm.deals.exceptions import ApiException as DealsApiException
from hubspot.crm.deals.exceptions import NotFoundException
from hubspot.crm.objects.tasks.exceptions import ApiException as TasksApiException

from onboard_sync.sandbox import SandboxClock
from onboard_sync.sandbox.hubspot import HubSpotSandbox


def test_get_all_and_fetch_all_page_to_the_end(sb: HubSpotSandbox, client: HubSpot) -> None:
    deals = client.crm.deals.get_all(properties=["dealname", "dealstage"])
    assert sorted(d.id for d in deals) == sorted(sb.backend.deals)
    companies = client.crm.objects.fetch_all("companies")  # crashes on "paging": {} in the last page
    assert len(companies) == len(sb.backend.companies)
    assert sb.request_counts()["GET /crm/v3/objects/deals"] == 1  # 40 deals: one page of 100


def test_last_page_omits_paging_and_cursor_continues(client: HubSpot, sb: HubSpotSandbox) -> None:
    first = client.crm.deals.basic_api.get_page(limit=30)
    assert len(first.results) == 30
    assert first.paging.next.after
    second = client.crm.deals.basic_api.get_page(limit=30, after=first.paging.next.after)
    assert len(second.results) == 10
    assert second.paging is None
    assert {d.id for d in first.results}.isdisjoint(d.id for d in second.results)


def test_properties_and_associations_as_repeated_keys_or_comma_lists(http: httpx.Client) -> None:
    repeated = http.get(
        "/crm/v3/objects/deals",
        params=[
            ("properties", "amount"),
            ("properties", "dealstage"),
            ("associations", "companies"),
            ("archived", "False"),
        ],
    )
    comma = http.get("/crm/v3/objects/deals?properties=amount,dealstage&associations=companies,contacts&archived=false")
    for response in (repeated, comma):
        assert response.status_code == 200
        assert response.headers["content-type"] == "application/json;charset=utf-8"
        deal = response.json()["results"][0]
        assert set(deal["properties"]) == {
            "amount",
            "dealstage",
            "createdate",
            "hs_lastmodifieddate",
            "hs_object_id",
        }
        assert deal["associations"]["companies"]["results"][0]["type"] == "deal_to_company"
        assert deal["createdAt"].endswith("Z")
        assert len(deal["createdAt"]) == 24
    assert "contacts" in comma.json()["results"][0]["associations"]


def test_default_properties_and_get_by_id(client: HubSpot, sb: HubSpotSandbox) -> None:
    deal_id = next(iter(sb.backend.deals))
    deal = client.crm.deals.basic_api.get_by_id(deal_id, associations=["contacts"])
    assert set(deal.properties) == {
        "dealname",
        "amount",
        "closedate",
        "pipeline",
        "dealstage",
        "createdate",
        "hs_lastmodifieddate",
        "hs_object_id",
    }
    assert [a.id for a in deal.associations["contacts"].results] == sb.backend.associations(
        "deals", deal_id, "contacts"
    )
    with pytest.raises(NotFoundException) as excinfo:
        client.crm.deals.basic_api.get_by_id("123")
    assert excinfo.value.status == 404
    assert '"category": "OBJECT_NOT_FOUND"' in excinfo.value.body


def test_get_by_unique_id_property(client: HubSpot, sb: HubSpotSandbox) -> None:
    contact = next(iter(sb.backend.contacts.values()))
    found = client.crm.contacts.basic_api.get_by_id(contact.properties["email"].upper(), id_property="email")
    assert found.id == contact.id


def test_create_update_archive_with_exact_status_codes(
    client: HubSpot, sb: HubSpotSandbox, clock: SandboxClock
) -> None:
    company_id = next(iter(sb.backend.companies))
    created = client.crm.deals.basic_api.create(
        simple_public_object_input_for_create={
            "properties": {"dealname": "New deal", "amount": 5000, "dealstage": "appointmentscheduled"},
            "associations": [
                {
                    "to": {"id": company_id},
                    "types": [{"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": 5}],
                }
            ],
        }
    )
    assert created is not None  # 201, else the SDK returns None
    assert created.properties["amount"] == "5000"
    assert created.properties["pipeline"] == "default"
    assert sb.backend.associations("deals", created.id, "companies") == [company_id]
    assert created.id in sb.backend.associations("companies", company_id, "deals")
    clock.advance(minutes=5)
    updated = client.crm.deals.basic_api.update(
        created.id, simple_public_object_input={"properties": {"dealstage": "closedwon"}}
    )
    assert updated.properties["hs_lastmodifieddate"] > created.properties["hs_lastmodifieddate"]
    assert updated.properties["hs_is_closed_won"] == "true"
    assert client.crm.deals.basic_api.archive(created.id) is None
    with pytest.raises(NotFoundException):
        client.crm.deals.basic_api.get_by_id(created.id)
    assert client.crm.deals.basic_api.get_by_id(created.id, archived=True).archived is True
    assert [e.subscription_type for e in sb.backend.events][:1] == ["deal.creation"]
    assert sb.backend.events[-1].subscription_type == "deal.deletion"


def test_unknown_property_is_a_validation_error(client: HubSpot, sb: HubSpotSandbox) -> None:
    deal_id = next(iter(sb.backend.deals))
    with pytest.raises(DealsApiException) as excinfo:
        client.crm.deals.basic_api.update(
            deal_id, simple_public_object_input={"properties": {"onboarding_phase": "kickoff"}}
        )
    assert excinfo.value.status == 400
    assert "VALIDATION_ERROR" in excinfo.value.body
    assert "PROPERTY_DOESNT_EXIST" in excinfo.value.body
    assert "onboarding_phase" not in sb.backend.deals[deal_id].properties


def test_tasks_require_hs_timestamp_and_track_completion(client: HubSpot, sb: HubSpotSandbox) -> None:
    tasks = client.crm.objects.tasks.basic_api
    with pytest.raises(TasksApiException) as excinfo:
        tasks.create(simple_public_object_input_for_create={"properties": {"hs_task_subject": "No due date"}})
    assert excinfo.value.status == 400
    assert "hs_timestamp" in excinfo.value.body
    task = tasks.create(
        simple_public_object_input_for_create={
            "properties": {
                "hs_timestamp": "1772445600000",
                "hs_task_subject": "Kickoff call",
                "hs_task_status": "NOT_STARTED",
                "hs_task_priority": "HIGH",
                "hs_task_type": "CALL",
                "hubspot_owner_id": "61000005",
            }
        }
    )
    assert task.properties["hs_timestamp"] == "2026-03-02T10:00:00.000Z"
    sb.backend.complete_task(task.id)
    done = tasks.get_by_id(task.id, properties=["hs_task_status", "hs_task_completion_date"])
    assert done.properties["hs_task_status"] == "COMPLETED"
    assert done.properties["hs_task_completion_date"] == "2026-03-02T09:30:00.000Z"
    with pytest.raises(TasksApiException) as bad:
        tasks.update(task.id, simple_public_object_input={"properties": {"hs_task_status": "FINISHED"}})
    assert bad.value.status == 400
    assert "INVALID_OPTION" in bad.value.body


def test_ui_helpers_bump_last_modified(sb: HubSpotSandbox, clock: SandboxClock) -> None:
    deal = next(d for d in sb.backend.deals.values() if d.properties["dealstage"] != "closedwon")
    clock.advance(hours=1)
    sb.backend.set_deal_stage(deal.id, "closedwon")
    assert deal.properties["hs_lastmodifieddate"] == "2026-03-02T10:30:00.000Z"
    assert deal.properties["closedate"] == "2026-03-02T10:30:00.000Z"
    assert sb.backend.events[-1].change_source == "CRM_UI"


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("POST", "/crm/v3/objects/deals", b"{not json"),
        ("POST", "/crm/v3/objects/deals", b"[1, 2]"),
        ("POST", "/crm/v3/objects/deals", b'{"properties": ["a"]}'),
        ("POST", "/crm/v3/objects/deals", b'{"properties": {"dealname": {"x": 1}}}'),
        ("POST", "/crm/v3/objects/deals/batch/create", b'{"inputs": "nope"}'),
        ("POST", "/crm/v3/objects/deals/batch/create", b'{"inputs": [1]}'),
        ("POST", "/crm/v3/objects/deals/search", b'{"filterGroups": [{"filters": [{"operator": "EQ"}]}]}'),
        ("POST", "/crm/v3/objects/deals/search", b'{"limit": "lots"}'),
        ("GET", "/crm/v3/objects/deals?limit=abc", b""),
        ("GET", "/crm/v3/objects/deals?archived=maybe", b""),
        ("POST", "/crm/v3/objects/widgets", b"{}"),
    ],
)
def test_garbage_input_is_400_not_500(http: httpx.Client, method: str, path: str, body: bytes) -> None:
    response = http.request(method, path, content=body, headers={"Content-Type": "application/json"})
    assert response.status_code == 400, response.text
    payload = response.json()
    assert payload["status"] == "error"
    assert payload["category"] == "VALIDATION_ERROR"
    assert payload["correlationId"]


def test_unknown_route_is_json_404(http: httpx.Client) -> None:
    response = http.get("/crm/v9/nothing")
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/json;charset=utf-8"
