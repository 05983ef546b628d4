"""Owner roles as a sync resolves them against the HubSpot sandbox: ``property:NAME`` takes the owner
from that deal property (read with the deals, as a mapping's properties are), and an alias (``sales =
"csm"``) gets whoever the role it names gets, never the role's name sent as an owner id."""

from __future__ import annotations

from typing import Any

import pytest

from onboard_sync.connector import PropertySpec
from onboard_sync.errors import ConfigError
from onboard_sync.records import ObjectKind
from onboard_sync.store import TaskState


def roles_of_templates(project: Any) -> dict[str, str]:
    playbook = project.runtime().playbook
    return {t.key: t.owner for phase in playbook.phases for t in phase.tasks}


def owners_by_role(project: Any) -> dict[str, set[str | None]]:
    roles = roles_of_templates(project)
    found: dict[str, set[str | None]] = {}
    with project.store() as store:
        for task in store.owned_tasks_for("hubspot").values():
            if task.state is not TaskState.CREATED:  # skipped tasks of phases that ended before adoption
                continue
            found.setdefault(roles.get(task.template_key, "?"), set()).add(task.owner_id)
    return found


def set_owners(project: Any, table: str) -> None:
    text = project.config_path.read_text(encoding="utf-8")
    start = text.index("[owners]")
    end = text.index("[connectors.")
    project.config_path.write_text(text[:start] + table + "\n" + text[end:], encoding="utf-8")


def test_property_roles_read_the_owner_from_the_deal_and_aliases_follow_their_role(project: Any) -> None:
    sandbox = project.sandbox
    connector = project.runtime().connector("hubspot")
    try:
        spec = PropertySpec(ObjectKind.DEAL, "csm_owner", "CSM owner", "string")
        assert connector.ensure_properties([spec], apply=True)[0].changed
    finally:
        connector.close()
    deal_owners = {d.properties.get("hubspot_owner_id") for d in sandbox.backend.deals.values()}
    csm = max(sandbox.backend.owners)  # a CS person, not a deal owner: the fallback cannot pass for it
    assert csm not in deal_owners
    for deal_id in list(sandbox.backend.deals):
        sandbox.backend.update("deals", deal_id, {"csm_owner": csm})
    set_owners(project, '[owners]\ncsm = "property:csm_owner"\nsales = "csm"\n')

    report = project.sync()

    assert report.ok, report.as_dict()
    owners = owners_by_role(project)
    assert owners["csm"] == {csm}, owners
    assert owners["sales"] == {csm}, "an alias gets what its role gets"


def test_a_property_role_naming_no_property_is_refused_before_the_run(project: Any) -> None:
    set_owners(project, '[owners]\ncsm = "property:csm_ownr"\n')

    with pytest.raises(ConfigError) as refused:
        project.sync()

    assert "config.toml:" in str(refused.value)
    assert "(owners.csm): CRM property 'csm_ownr' is on neither hubspot deal nor account records" in str(refused.value)
    assert project.sandbox.backend.tasks == {}
