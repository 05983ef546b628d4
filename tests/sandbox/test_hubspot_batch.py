"""HubSpot sandbox: batch endpoints (201/200/207/204), upsert, unique properties, partial failures."""

from __future__ import annotations

import json

import httpx
import pytest
from hubspot import HubSpot
from hubspot.crm.companies.exceptions import ApiException as CompaniesApiException
from hubspot.crm.objects.tasks.exceptions import ApiException as TasksApiException

from onboard_sync.sandbox.hubspot import HubSpotSandbox


def _task(subject: str, deal_id: str, company_id: str, trace: str | None = None) -> dict:
    item = {
        "properties": {
            "hs_timestamp": "2026-03-05T09:00:00Z",
            "hs_task_subject": subject,
            "hs_task_status": "NOT_STARTED",
            "hubspot_owner_id": "61000006",
        },
        "associations": [
            {
                "to": {"id": deal_id},
                "types": [{"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": 216}],
            },
            {
                "to": {"id": company_id},
                "types": [{"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": 192}],
            },
        ],
    }
    if trace:
        item["objectWriteTraceId"] = trace
    return item


def _deal_and_company(sb: HubSpotSandbox) -> tuple[str, str]:
    deal_id = next(iter(sb.backend.deals))
    return deal_id, sb.backend.associations("deals", deal_id, "companies")[0]


def test_batch_create_tasks_with_inline_associations(client: HubSpot, sb: HubSpotSandbox) -> None:
    deal_id, company_id = _deal_and_company(sb)
    response = client.crm.objects.tasks.batch_api.create(
        batch_input_simple_public_object_batch_input_for_create={
            "inputs": [_task("Handoff", deal_id, company_id), _task("Kickoff", deal_id, company_id)]
        }
    )
    assert response is not None
    assert response.status == "COMPLETE"
    assert [t.properties["hs_task_subject"] for t in response.results] == ["Handoff", "Kickoff"]
    for task in response.results:
        assert sb.backend.associations("tasks", task.id, "deals") == [deal_id]
        assert sb.backend.associations("tasks", task.id, "companies") == [company_id]
        assert task.id in sb.backend.associations("deals", deal_id, "tasks")
    assert sb.request_counts()["POST /crm/v3/objects/tasks/batch/create"] == 1


def test_partial_batch_fault_gives_207_with_trace_ids(client: HubSpot, sb: HubSpotSandbox) -> None:
    deal_id, company_id = _deal_and_company(sb)
    sb.faults.partial_batch(fail_every=2, path_contains="batch/create")
    inputs = [_task(f"T{i}", deal_id, company_id, trace=f"trace-{i}") for i in range(4)]
    response = client.crm.objects.tasks.batch_api.create(
        batch_input_simple_public_object_batch_input_for_create={"inputs": inputs}
    )
    assert response.num_errors == 2  # 207 -> ...WithErrors model
    assert sorted(e.context["objectWriteTraceId"][0] for e in response.errors) == ["trace-1", "trace-3"]
    assert sorted(t.properties["hs_task_subject"] for t in response.results) == ["T0", "T2"]
    assert len(sb.backend.tasks) == 2
    assert sb.requests[-1].status == 207


def test_invalid_record_207_with_trace_ids_else_whole_batch_400(client: HubSpot, sb: HubSpotSandbox) -> None:
    deal_id, company_id = _deal_and_company(sb)
    bad = _task("Bad", deal_id, company_id, trace="t-bad")
    bad["properties"]["no_such_property"] = "x"
    good = _task("Good", deal_id, company_id, trace="t-good")
    partial = client.crm.objects.tasks.batch_api.create(
        batch_input_simple_public_object_batch_input_for_create={"inputs": [good, bad]}
    )
    assert [e.context["objectWriteTraceId"] for e in partial.errors] == [["t-bad"]]
    assert partial.errors[0].category == "VALIDATION_ERROR"
    assert "PROPERTY_DOESNT_EXIST" in partial.errors[0].message
    assert len(sb.backend.tasks) == 1
    del good["objectWriteTraceId"], bad["objectWriteTraceId"]
    with pytest.raises(TasksApiException) as excinfo:
        client.crm.objects.tasks.batch_api.create(
            batch_input_simple_public_object_batch_input_for_create={"inputs": [good, bad]}
        )
    assert excinfo.value.status == 400
    assert len(sb.backend.tasks) == 1  # nothing written


def test_batch_update_naming_a_missing_property_is_refused_whole_even_with_trace_ids(
    http: httpx.Client, sb: HubSpotSandbox
) -> None:
    first, second = list(sb.backend.companies)[:2]
    inputs = [
        {"id": first, "properties": {"no_such": "x", "name": "Kept?"}, "objectWriteTraceId": "a"},
        {"id": second, "properties": {"also_missing": "y"}, "objectWriteTraceId": "b"},
    ]
    response = http.post("/crm/v3/objects/companies/batch/update", json={"inputs": inputs})
    assert response.status_code == 400
    body = response.json()
    assert body["category"] == "VALIDATION_ERROR"
    assert [e["context"]["propertyName"] for e in body["errors"]] == [["no_such"], ["also_missing"]]
    assert all(e["code"] == "PROPERTY_DOESNT_EXIST" for e in body["errors"])
    assert sb.backend.companies[first].properties.get("name") != "Kept?", "nothing written"


def test_batch_cap_of_100_inputs(http: httpx.Client, sb: HubSpotSandbox) -> None:
    inputs = [{"properties": {"name": f"Co {i}"}} for i in range(101)]
    response = http.post("/crm/v3/objects/companies/batch/create", json={"inputs": inputs})
    assert response.status_code == 400
    assert response.json()["category"] == "VALIDATION_ERROR"
    ok = http.post("/crm/v3/objects/companies/batch/create", json={"inputs": inputs[:100]})
    assert ok.status_code == 201
    assert len(ok.json()["results"]) == 100


def test_batch_update_read_and_archive(client: HubSpot, sb: HubSpotSandbox) -> None:
    ids = list(sb.backend.deals)[:3]
    updated = client.crm.deals.batch_api.update(
        batch_input_simple_public_object_batch_input={
            "inputs": [{"id": i, "properties": {"description": f"note {i}"}} for i in ids]
        }
    )
    assert updated.status == "COMPLETE"
    assert len(updated.results) == 3
    read = client.crm.deals.batch_api.read(
        batch_read_input_simple_public_object_id={
            "inputs": [{"id": i} for i in ids],
            "properties": ["description"],
            "propertiesWithHistory": [],
        }
    )
    assert {r.properties["description"] for r in read.results} == {f"note {i}" for i in ids}
    partial = client.crm.deals.batch_api.read(
        batch_read_input_simple_public_object_id={
            "inputs": [{"id": ids[0]}, {"id": "1"}],
            "properties": [],
            "propertiesWithHistory": [],
        }
    )
    assert partial.num_errors == 1
    assert partial.errors[0].context["ids"] == ["1"]
    assert client.crm.deals.batch_api.archive(batch_input_simple_public_object_id={"inputs": [{"id": ids[0]}]}) is None
    assert sb.backend.deals[ids[0]].archived
    assert sb.requests[-1].status == 204


def _unique_key_property(client: HubSpot) -> None:
    created = client.crm.properties.core_api.create(
        object_type="companies",
        property_create={
            "name": "onboard_sync_key",
            "label": "onboard-sync key",
            "type": "string",
            "fieldType": "text",
            "groupName": "companyinformation",
            "hasUniqueValue": True,
        },
    )
    assert created.has_unique_value is True


def test_unique_property_enforced_and_usable_as_id_property(client: HubSpot, sb: HubSpotSandbox) -> None:
    _unique_key_property(client)
    first = client.crm.companies.basic_api.create(
        simple_public_object_input_for_create={"properties": {"name": "Acme", "onboard_sync_key": "acme-1"}}
    )
    with pytest.raises(CompaniesApiException) as excinfo:
        client.crm.companies.basic_api.create(
            simple_public_object_input_for_create={"properties": {"name": "Acme again", "onboard_sync_key": "acme-1"}}
        )
    assert excinfo.value.status == 400
    assert first.id in excinfo.value.body
    read = client.crm.companies.batch_api.read(
        batch_read_input_simple_public_object_id={
            "inputs": [{"id": "acme-1"}],
            "idProperty": "onboard_sync_key",
            "properties": ["name"],
            "propertiesWithHistory": [],
        }
    )
    assert [r.id for r in read.results] == [first.id]
    assert client.crm.companies.basic_api.get_by_id("acme-1", id_property="onboard_sync_key").id == first.id
    dup = client.crm.companies.batch_api.create(
        batch_input_simple_public_object_batch_input_for_create={
            "inputs": [
                {"properties": {"name": "A", "onboard_sync_key": "k-2"}, "objectWriteTraceId": "a"},
                {"properties": {"name": "B", "onboard_sync_key": "k-2"}, "objectWriteTraceId": "b"},
            ]
        }
    )
    assert len(dup.results) == 1
    assert dup.errors[0].context["objectWriteTraceId"] == ["b"]


def test_upsert_by_unique_property_sets_new_flag(client: HubSpot, sb: HubSpotSandbox) -> None:
    _unique_key_property(client)
    body = {"inputs": [{"id": "k-1", "idProperty": "onboard_sync_key", "properties": {"name": "First"}}]}
    created = client.crm.companies.batch_api.upsert(batch_input_simple_public_object_batch_input_upsert=body)
    assert created.results[0].new is True
    assert created.results[0].properties["onboard_sync_key"] == "k-1"
    body["inputs"][0]["properties"]["name"] = "Renamed"
    again = client.crm.companies.batch_api.upsert(batch_input_simple_public_object_batch_input_upsert=body)
    assert again.results[0].new is False
    assert again.results[0].id == created.results[0].id
    assert sb.backend.companies[created.results[0].id].properties["name"] == "Renamed"


def test_upsert_requires_a_unique_id_property(http: httpx.Client) -> None:
    response = http.post(
        "/crm/v3/objects/companies/batch/upsert",
        content=json.dumps({"inputs": [{"id": "x", "idProperty": "name", "properties": {}}]}),
    )
    assert response.status_code == 400


def test_contact_email_conflict_is_409(client: HubSpot, sb: HubSpotSandbox) -> None:
    contact = next(iter(sb.backend.contacts.values()))
    from hubspot.crm.contacts.exceptions import ApiException

    with pytest.raises(ApiException) as excinfo:
        client.crm.contacts.basic_api.create(
            simple_public_object_input_for_create={"properties": {"email": contact.properties["email"]}}
        )
    assert excinfo.value.status == 409
    assert f"Existing ID: {contact.id}" in excinfo.value.body
