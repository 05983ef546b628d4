"""A mapped property deleted in the CRM after the run-start check and the reads, before the writes: HubSpot refuses
the whole batch update (400 ``PROPERTY_DOESNT_EXIST``), Salesforce the whole collection (400
``INVALID_FIELD``). The run sends the records again without that property, so every other field is
still written and recorded; the missing one is reported failed with its name (exit 1), nothing is
recorded as written for it, and the next run's check stops with the mapping line to fix (exit 2)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest

from onboard_sync.connectors.hubspot import HubSpotConnector
from onboard_sync.connectors.salesforce.connector import SalesforceConnector
from onboard_sync.errors import SchemaError
from onboard_sync.records import ObjectKind


def delete_before_the_first_write(monkeypatch: pytest.MonkeyPatch, connector: type, delete: Callable[[], None]) -> None:
    """Delete a property when the run sends its first deal field write, after its check and its reads, as a
    person might in the CRM meanwhile."""
    write_fields = connector.write_fields
    deleted: list[bool] = []

    def delete_then_write(self: Any, kind: ObjectKind, batch: Any) -> Any:
        if kind is ObjectKind.DEAL and not deleted:
            delete()
            deleted.append(True)
        return write_fields(self, kind, batch)

    monkeypatch.setattr(connector, "write_fields", delete_then_write)


def hubspot_values(project: Any) -> dict[str, dict[str, str | None]]:
    return {d.id: dict(d.properties) for d in project.sandbox.backend.deals.values()}


def salesforce_values(project: Any) -> dict[str, dict[str, Any]]:
    return {i: dict(o) for i, o in project.sandbox.backend.opportunities.items()}


@pytest.mark.parametrize("crm", ["hubspot", "salesforce"])
def test_a_property_deleted_mid_run_is_left_out_and_every_other_field_is_written(
    crm: str, request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> None:
    if crm == "hubspot":
        project = request.getfixturevalue("project")
        gone, kept, values = "onboarding_day", "onboarding_phase", hubspot_values
        sandbox, connector = project.sandbox, HubSpotConnector

        def delete() -> None:
            answer = httpx.delete(
                f"{sandbox.base_url}/crm/v3/properties/deals/{gone}",
                headers={"Authorization": f"Bearer {sandbox.token}"},
            )
            assert answer.status_code == 204
    else:
        project = request.getfixturevalue("sf_project")
        gone, kept, values = "Onboarding_Day__c", "Onboarding_Phase__c", salesforce_values
        connector = SalesforceConnector

        def delete() -> None:
            del project.sandbox.backend.schema.objects["Opportunity"][gone]

    with monkeypatch.context() as patched:
        delete_before_the_first_write(patched, connector, delete)
        report = project.sync()

    instance = report.instances[project.instance]
    assert instance.error is None, instance.error
    assert not report.ok, "a field that could not be written is a failed write"
    failures = [f for f in instance.failures if f"'{gone}' does not exist any more" in f["error"]]
    assert failures, instance.failures
    assert len(failures) == instance.writes_failed, instance.failures
    assert instance.writes_created > 0, "tasks are created"
    assert instance.writes_updated > 0, "the other fields are written"
    with project.store() as store:
        written = store.written_fields_for(project.instance)
    deals = {remote_id for fields in written.values() for (kind, remote_id, _) in fields if kind is ObjectKind.DEAL}
    assert len(deals) == len(failures), "each deal whose day was dropped had its other fields written"
    assert not [p for fields in written.values() for (_, _, p) in fields if p == gone], "never recorded as written"
    crm_values = values(project)
    assert all(crm_values[deal].get(kept) for deal in deals), f"{kept} is set on every deal written"

    with pytest.raises(SchemaError) as stopped:
        project.sync()
    assert f"mappings/{project.instance}.toml:" in str(stopped.value)
    assert f"(deal.write.day): CRM property '{gone}' does not exist" in str(stopped.value)
