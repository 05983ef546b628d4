"""Helpdesk signals end to end: HubSpot and Zendesk sandboxes over real HTTP, one shared clock.

An enterprise customer with three urgent Zendesk tickets open more than three days turns
at-risk with those reasons on its CRM record; exactly one alert task is created however many
syncs run; the episode clears when the tickets are solved; a new blocker later opens a new
episode and a new task. Organizations that cannot be linked are reported.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from e2e_support import replay_history, run_cli

from onboard_sync.cli.demo import TOKEN_ENV, write_demo_config
from onboard_sync.sandbox.clock import SandboxClock
from onboard_sync.sandbox.hubspot import HubSpotSandbox
from onboard_sync.sandbox.zendesk import ZendeskSandbox, companies_from_hubspot

ZD_TOKEN_ENV = "ONBOARD_SYNC_TEST_ZENDESK_TOKEN"


@dataclass
class Helpdesk:
    path: Path
    clock: SandboxClock
    hubspot: HubSpotSandbox
    zendesk: ZendeskSandbox

    @property
    def config_path(self) -> Path:
        return self.path / "config.toml"

    def runtime(self) -> Any:
        from onboard_sync.runtime import load_runtime

        return load_runtime(self.config_path)

    def store(self) -> Any:
        from onboard_sync.store import Store

        return Store.open(self.runtime().config.store_url)

    def sync(self) -> Any:
        from onboard_sync.sync.engine import Engine

        self.clock.advance(minutes=2)  # Zendesk exports leave out the most recent minute
        rt = self.runtime()
        with self.store() as store:
            return Engine(rt, store, clock=self.clock.now, sleep=lambda s: None).run()


@pytest.fixture
def helpdesk(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest) -> Iterator[Helpdesk]:
    chunk_size: int | None = getattr(request, "param", None)  # a tiny chunk_size: tickets and alerts per chunk
    clock = SandboxClock(frozen_at=datetime.now(UTC).replace(microsecond=0))
    hs = HubSpotSandbox(seed=3, deals=60, clock=clock)
    with hs, ZendeskSandbox(seed=3, companies=companies_from_hubspot(hs), clock=clock) as zd:
        monkeypatch.setenv(TOKEN_ENV, hs.token)
        monkeypatch.setenv(ZD_TOKEN_ENV, zd.api_token)
        config = write_demo_config(tmp_path, hs.base_url)
        replay_history(config)
        if chunk_size is not None:
            text = config.read_text().replace("[onboard_sync]\n", f"[onboard_sync]\nchunk_size = {chunk_size}\n")
            config.write_text(text)
        with (tmp_path / "config.toml").open("a", encoding="utf-8") as fh:
            fh.write(
                f"""
[connectors.zendesk]
type = "zendesk"
base_url = "{zd.base_url}"
email = "{zd.email}"
token_env = "{ZD_TOKEN_ENV}"

[connectors.zendesk.link]
crm = "hubspot"
by = ["external_id", "domain"]
"""
            )
        (tmp_path / "mappings" / "zendesk.toml").write_text(
            '[account.write]\nphase = "onboarding_phase"\nhealth_status = "onboarding_health"\n',
            encoding="utf-8",
        )
        project = Helpdesk(tmp_path, clock, hs, zd)
        from onboard_sync.schema import property_specs

        rt = project.runtime()
        connector = rt.connector("hubspot")
        specs = connector.required_properties() + property_specs(rt.mappings["hubspot"], rt.playbook)
        connector.ensure_properties(specs, apply=True)
        connector.close()
        zendesk = rt.connector("zendesk")
        zendesk.ensure_properties(property_specs(rt.mappings["zendesk"], rt.playbook), apply=True)
        zendesk.close()
        yield project


def _alert_tasks(hd: Helpdesk, onboarding_id: str) -> list[str]:
    keys = [t.properties.get("onboard_sync_key") or "" for t in hd.hubspot.backend.tasks.values()]
    return sorted(k for k in keys if k.startswith(f"{onboarding_id}:alert.blockers:"))


def _org_of(hd: Helpdesk, company_id: str) -> int:
    with hd.store() as store:
        links = [link for link in store.account_links("zendesk") if link.crm_account_id == company_id]
    assert links, "the customer's Zendesk organization is linked"
    return int(links[0].remote_id)


@pytest.mark.parametrize("helpdesk", [None, 3], indirect=True, ids=["whole", "chunked"])
def test_urgent_tickets_turn_an_enterprise_customer_at_risk_once_per_episode(helpdesk: Helpdesk) -> None:
    hd = helpdesk
    first = hd.sync()
    assert first.ok, first.as_dict()
    with hd.store() as store:
        candidates = [
            o
            for o in store.onboardings(source="hubspot")
            if o.segment == "enterprise" and o.health_status == "healthy" and o.account_id
        ]
        linked = {link.crm_account_id for link in store.account_links("zendesk") if link.crm_account_id}
    target = next(o for o in candidates if o.account_id in linked)
    org = _org_of(hd, target.account_id)

    # three urgent tickets, opened four days ago and still open
    now = hd.clock.now()
    tickets = [
        hd.zendesk.backend.add_ticket(
            f"Outage {n}",
            organization_id=org,
            priority="urgent",
            status="open",
            created_at=now - timedelta(days=4),
        )
        for n in range(3)
    ]
    second = hd.sync()
    assert second.ok, second.as_dict()
    with hd.store() as store:
        state = store.get_onboarding(target.id)
    assert state.health_status == "at-risk"
    assert state.status.value == "at-risk"
    reasons = hd.hubspot.backend.deals[target.deal_id].properties["onboarding_health_reasons"]
    assert "3 urgent/high ticket(s) open more than 3 days" in reasons
    company = hd.hubspot.backend.companies[target.account_id].properties
    assert (
        "urgent_tickets FAIL: 3 urgent/high ticket(s) open more than 3 days" in company["onboarding_health_components"]
    )
    assert company["onboarding_health_computed"].startswith(hd.clock.now().date().isoformat())
    assert _alert_tasks(hd, target.id) == [f"{target.id}:alert.blockers:1"]

    # however many syncs run: still exactly one alert task, and no writes at all
    for _ in range(2):
        hd.hubspot.requests.clear()
        again = hd.sync()
        assert again.totals() == {"created": 0, "updated": 0, "failed": 0}
        assert hd.hubspot.requests.writes() == []
    assert _alert_tasks(hd, target.id) == [f"{target.id}:alert.blockers:1"]

    # the tickets are solved: the episode clears, health recovers
    for ticket in tickets:
        hd.zendesk.backend.solve_ticket(ticket["id"])
    cleared = hd.sync()
    assert cleared.ok
    with hd.store() as store:
        state = store.get_onboarding(target.id)
        episodes = store.alert_episodes("hubspot", onboarding_id=target.id)
        history = store.health_history(target.id)
    assert state.health_status == "healthy"
    assert [(e.alert, e.episode, e.cleared_at is not None) for e in episodes] == [("blockers", 1, True)]
    assert "urgent" not in (hd.hubspot.backend.deals[target.deal_id].properties.get("onboarding_health_reasons") or "")
    assert history
    assert history[-1].status == "healthy"

    # a new blocker later: a new episode and a new task
    hd.zendesk.backend.add_ticket(
        "Data import blocked",
        organization_id=org,
        priority="high",
        created_at=hd.clock.now() - timedelta(days=5),
    )
    hd.sync()
    hd.sync()
    assert _alert_tasks(hd, target.id) == [f"{target.id}:alert.blockers:1", f"{target.id}:alert.blockers:2"]
    with hd.store() as store:
        episodes = store.alert_episodes("hubspot", onboarding_id=target.id)
    assert [(e.episode, e.cleared_at is None) for e in episodes] == [(1, False), (2, True)]


def test_status_json_explains_the_score_and_reports_unlinked_organizations(helpdesk: Helpdesk) -> None:
    report = helpdesk.sync()
    assert report.ok
    signals = report.instances["hubspot"].signals
    unlinked = {u["name"]: u for u in signals["unlinked"]}
    assert set(unlinked) == {"Unlinked Org 1", "Unlinked Org 2"}
    assert "no tracked CRM account has domain unknown-1.example" in unlinked["Unlinked Org 1"]["reason"]
    assert signals["links"]["zendesk"]["linked"] == len(helpdesk.zendesk.companies)
    assert report.as_dict()["ticket_sources"]["zendesk"]["organizations_pulled"] == len(
        helpdesk.zendesk.backend.organizations
    )

    shown = run_cli(helpdesk, "status", "--json")
    assert shown.returncode == 0, shown.stderr
    data = json.loads(shown.stdout)
    assert {u["name"] for u in data["signals"]["unlinked_organizations"]} == {
        "Unlinked Org 1",
        "Unlinked Org 2",
    }
    some = data["onboardings"][0]["health"]
    assert some["components"], "every component is shown"
    for component in some["components"]:
        assert {"key", "weight", "scored", "ok", "value", "reason"} <= component.keys()
        if component["scored"] and not component["ok"]:
            assert component["reason"]


@pytest.mark.parametrize("helpdesk", [None, 3], indirect=True, ids=["whole", "chunked"])
def test_phase_and_health_are_written_back_to_linked_organizations_once(helpdesk: Helpdesk) -> None:
    hd = helpdesk
    assert set(hd.zendesk.backend.org_fields) == {"onboarding_phase", "onboarding_health"}
    first = hd.sync()
    assert first.ok
    counts = first.instances["hubspot"].signals["write_back"]["zendesk"]
    assert counts["updated"] > 0
    assert counts["failed"] == 0
    with hd.store() as store:
        states = {o.account_id: o for o in store.onboardings(source="hubspot")}
        links = [link for link in store.account_links("zendesk") if link.crm_account_id in states]
    assert links
    for link in links:
        fields = hd.zendesk.backend.organizations[int(link.remote_id)]["organization_fields"]
        assert fields["onboarding_phase"] in hd.runtime().playbook.phase_keys()
        assert fields["onboarding_health"] in {"healthy", "at-risk", "critical"}
    hd.zendesk.requests.clear()
    again = hd.sync()
    assert again.totals() == {"created": 0, "updated": 0, "failed": 0}
    assert [r for r in hd.zendesk.requests if r.method != "GET"] == []


def test_a_zendesk_mapping_onto_an_agents_own_field_stops_the_sync_before_any_write(helpdesk: Helpdesk) -> None:
    """The run-start check covers the helpdesk's write-back as ``validate --remote`` does: phase mapped
    onto an organization field an agent made (its title is not setup's) stops ``sync`` with one line
    naming the mapping file and line, before a task is created or an organization written."""
    hd = helpdesk
    hd.zendesk.backend.org_fields["account_notes"] = {
        "id": 9100, "key": "account_notes", "type": "text", "title": "Account notes", "active": True
    }  # fmt: skip
    (hd.path / "mappings" / "zendesk.toml").write_text(
        '[account.write]\nhealth_status = "onboarding_health"\nphase = "account_notes"\n', encoding="utf-8"
    )
    tasks_before = len(hd.hubspot.backend.tasks)
    hd.zendesk.requests.clear()  # the fixture's setup made the onboarding fields
    result = run_cli(hd, "sync")
    assert result.returncode == 2, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: "), lines[0]
    assert "zendesk.toml:3" in lines[0], lines[0]
    assert "account_notes" in lines[0], lines[0]
    assert len(hd.hubspot.backend.tasks) == tasks_before, "no task was created"
    assert [r for r in hd.zendesk.requests if r.method != "GET"] == [], "no organization was written"
    with hd.store() as store:
        assert store.onboardings(source="hubspot") == [], "nothing was recorded"


def test_a_zendesk_mapping_that_cannot_be_checked_gets_no_write_back_and_the_crm_work_goes_on(
    helpdesk: Helpdesk,
) -> None:
    hd = helpdesk
    hd.zendesk.faults.fail_next(20, status=503, path_contains="organization_fields")
    hd.zendesk.requests.clear()  # the fixture's setup made the onboarding fields
    report = hd.sync()
    counts = report.instances["hubspot"].signals["write_back"]["zendesk"]
    assert counts["updated"] == 0, counts
    assert "could not be checked" in counts["error"], counts
    assert report.instances["hubspot"].error is None
    assert report.totals()["created"] > 0, "the CRM's tasks were still created"
    assert [r for r in hd.zendesk.requests if r.method != "GET"] == []
    hd.zendesk.faults.clear()
    again = hd.sync()
    assert again.instances["hubspot"].signals["write_back"]["zendesk"]["updated"] > 0, "written once it checks out"
