"""HubSpot sandbox: owners, properties and groups, pipelines, associations v4 through the SDK."""

from __future__ import annotations

import pytest
from hubspot import HubSpot
from hubspot.crm.owners.exceptions import NotFoundException as OwnerNotFound
from hubspot.crm.properties.exceptions import ApiException as PropertiesApiException

from onboard_sync.sandbox.hubspot import HubSpotSandbox


def test_owners_list_with_trailing_slash_paging_and_by_id(client: HubSpot, sb: HubSpotSandbox) -> None:
    page = client.crm.owners.owners_api.get_page(limit=5)
    assert len(page.results) == 5
    assert page.paging.next.after == "5"
    rest = client.crm.owners.owners_api.get_page(limit=5, after=page.paging.next.after)
    assert len(rest.results) == 3
    assert rest.paging is None
    assert sb.requests[0].path == "/crm/v3/owners/"
    cs = [o for o in page.results + rest.results if o.teams[0].name == "Customer Success"]
    assert {o.email for o in cs} == {
        "erin.cs@example.test",
        "farid.cs@example.test",
        "grace.cs@example.test",
        "hugo.cs@example.test",
    }
    by_email = client.crm.owners.owners_api.get_page(email="ana.sales@example.test")
    assert by_email.results[0].first_name == "Ana"
    assert client.crm.owners.owners_api.get_by_id(int(cs[0].id)).email == cs[0].email
    with pytest.raises(OwnerNotFound):
        client.crm.owners.owners_api.get_by_id(1)


def test_properties_list_get_create_and_conflict(client: HubSpot) -> None:
    names = {p.name for p in client.crm.properties.core_api.get_all(object_type="tasks").results}
    assert {
        "hs_timestamp",
        "hs_task_subject",
        "hs_task_body",
        "hs_task_status",
        "hs_task_priority",
        "hs_task_type",
        "hubspot_owner_id",
        "hs_task_completion_date",
    } <= names
    status = client.crm.properties.core_api.get_by_name(object_type="tasks", property_name="hs_task_status")
    assert [o.value for o in status.options] == [
        "NOT_STARTED",
        "IN_PROGRESS",
        "WAITING",
        "COMPLETED",
        "DEFERRED",
    ]
    group = client.crm.properties.groups_api.create(
        object_type="deals", property_group_create={"name": "onboard_sync", "label": "onboard-sync"}
    )
    assert group.name == "onboard_sync"
    with pytest.raises(PropertiesApiException) as group_conflict:
        client.crm.properties.groups_api.create(
            object_type="deals", property_group_create={"name": "onboard_sync", "label": "again"}
        )
    assert group_conflict.value.status == 409
    spec = {
        "name": "onboard_health_score",
        "label": "Onboarding health",
        "type": "number",
        "fieldType": "number",
        "groupName": "onboard_sync",
    }
    created = client.crm.properties.core_api.create(object_type="deals", property_create=spec)
    assert created.name == "onboard_health_score"
    assert created.hubspot_defined is False
    with pytest.raises(PropertiesApiException) as conflict:
        client.crm.properties.core_api.create(object_type="deals", property_create=spec)
    assert conflict.value.status == 409
    deal = client.crm.deals.basic_api.get_page(limit=1).results[0]
    updated = client.crm.deals.basic_api.update(
        deal.id, simple_public_object_input={"properties": {"onboard_health_score": "82"}}
    )
    assert updated.properties["onboard_health_score"] == "82"
    batch = client.crm.properties.batch_api.create(
        object_type="deals",
        batch_input_property_create={
            "inputs": [{**spec, "name": "onboard_phase", "type": "string", "fieldType": "text"}]
        },
    )
    assert [p.name for p in batch.results] == ["onboard_phase"]


def test_pipelines_expose_default_stages(client: HubSpot) -> None:
    pipeline = client.crm.pipelines.pipelines_api.get_all(object_type="deals").results[0]
    assert pipeline.id == "default"
    stages = {s.id: s.metadata for s in pipeline.stages}
    assert stages["closedwon"] == {"isClosed": "true", "probability": "1.0"}
    assert stages["appointmentscheduled"]["isClosed"] == "false"


def test_associations_v4_batch_create_read_and_default(client: HubSpot, sb: HubSpotSandbox) -> None:
    deal_id = next(iter(sb.backend.deals))
    task = sb.backend.create("tasks", {"hs_timestamp": "2026-03-03T00:00:00Z", "hs_task_subject": "Kickoff"})
    created = client.crm.associations.v4.batch_api.create(
        from_object_type="tasks",
        to_object_type="deals",
        batch_input_public_association_multi_post={
            "inputs": [
                {
                    "from": {"id": task.id},
                    "to": {"id": deal_id},
                    "types": [{"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": 216}],
                }
            ]
        },
    )
    assert created.results[0].to_object_id == deal_id
    assert created.results[0].to_object_type_id == "0-3"
    read = client.crm.associations.v4.batch_api.get_page(
        from_object_type="deals",
        to_object_type="tasks",
        batch_input_public_fetch_associations_batch_request={"inputs": [{"id": deal_id}]},
    )
    assert read.results[0].to[0].to_object_id == task.id
    assert read.results[0].to[0].association_types[0].type_id == 215
    contact_id = next(iter(sb.backend.contacts))
    client.crm.associations.v4.basic_api.create_default(
        from_object_type="tasks", from_object_id=task.id, to_object_type="contacts", to_object_id=contact_id
    )
    assert sb.backend.association_types("tasks", task.id, "contacts") == {contact_id: [204]}
    none = client.crm.associations.v4.batch_api.get_page(
        from_object_type="tasks",
        to_object_type="companies",
        batch_input_public_fetch_associations_batch_request={"inputs": [{"id": task.id}]},
    )
    assert none.results == []
    assert none.num_errors == 1
