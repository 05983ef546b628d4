"""Helpers of the Zendesk webhook tests: a HubSpot + Zendesk sandbox project (one shared clock) with `serve`
running in-process over real HTTP, and the deliveries a Zendesk webhook makes (signed by the sandbox)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from webhook_support import SECRET, SECRET_ENV, add_serve_config

from onboard_sync.cli.demo import TOKEN_ENV, write_demo_config
from onboard_sync.sandbox.clock import SandboxClock
from onboard_sync.sandbox.hubspot import HubSpotSandbox
from onboard_sync.sandbox.zendesk import ZendeskSandbox, companies_from_hubspot
from onboard_sync.server_thread import ServerThread

ZD_TOKEN_ENV = "ONBOARD_SYNC_TEST_ZENDESK_TOKEN"
ZD_SECRET_ENV = "ZENDESK_WEBHOOK_SECRET"
ZD_SECRET = "test-zendesk-webhook-signing-secret"
REASON = "3 urgent/high ticket(s) open more than 3 days"
"""The health reason three urgent tickets open more than 3 days give (``open_urgent_tickets``)."""


@dataclass
class HelpdeskProject:
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
        """One cron-style ``sync`` on the sandbox clock (after Zendesk's one-minute export horizon)."""
        from onboard_sync.sync.engine import Engine

        self.clock.advance(minutes=2)
        with self.store() as store:
            return Engine(self.runtime(), store, clock=self.clock.now, sleep=lambda s: None).run()


@contextmanager
def helpdesk_project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[HelpdeskProject]:
    """HubSpot + Zendesk sandboxes on one clock, a project with both connectors, fields set up.

    The clock starts three minutes behind real time, so that the syncs' two-minute steps keep the
    signed timestamps within the receiver's five-minute window."""
    clock = SandboxClock(frozen_at=datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=3))
    hs = HubSpotSandbox(seed=3, deals=60, clock=clock)
    with hs, ZendeskSandbox(seed=3, companies=companies_from_hubspot(hs), clock=clock) as zd:
        monkeypatch.setenv(TOKEN_ENV, hs.token)
        monkeypatch.setenv(ZD_TOKEN_ENV, zd.api_token)
        monkeypatch.setenv(ZD_SECRET_ENV, ZD_SECRET)
        monkeypatch.setenv(SECRET_ENV, SECRET)
        zd.webhooks.secret = ZD_SECRET  # the secret the account's webhook signs with
        write_demo_config(tmp_path, hs.base_url)
        # tickets of customers won before the first sync count from their creation (alert mechanics)
        config = tmp_path / "config.toml"
        config.write_text(config.read_text().replace("[onboard_sync]\n", '[onboard_sync]\ncatch_up = "replay"\n', 1))
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
        project = HelpdeskProject(tmp_path, clock, hs, zd)
        add_serve_config(project)
        from onboard_sync.schema import property_specs

        rt = project.runtime()
        connector = rt.connector("hubspot")
        connector.ensure_properties(
            connector.required_properties() + property_specs(rt.mappings["hubspot"], rt.playbook), apply=True
        )
        connector.close()
        yield project


@dataclass
class ServedHelpdesk:
    project: HelpdeskProject
    service: Any
    server: ServerThread

    @property
    def url(self) -> str:
        return f"{self.server.base_url}/webhooks/zendesk"


@contextmanager
def serving(project: HelpdeskProject) -> Iterator[ServedHelpdesk]:
    """`serve` in-process over real HTTP (no periodic sync: only deliveries cause a reconcile)."""
    from onboard_sync.webhooks.server import build_service

    store = project.store()
    service = build_service(project.runtime(), store, worker_mode="thread")
    server = ServerThread(service.app, name="serve")
    server.start()
    service.worker.start()
    try:
        yield ServedHelpdesk(project, service, server)
    finally:
        service.worker.stop()
        server.stop()
        store.close()


def alert_tasks(project: HelpdeskProject, onboarding_id: str) -> list[str]:
    keys = [t.properties.get("onboard_sync_key") or "" for t in project.hubspot.backend.tasks.values()]
    return sorted(k for k in keys if k.startswith(f"{onboarding_id}:alert.blockers:"))


def enterprise_customer(project: HelpdeskProject) -> tuple[Any, int]:
    """A healthy enterprise onboarding whose company is linked to a Zendesk organization, and that org."""
    with project.store() as store:
        links = {
            link.crm_account_id: int(link.remote_id) for link in store.account_links("zendesk") if link.crm_account_id
        }
        for onboarding in store.onboardings(source="hubspot"):
            healthy = onboarding.segment == "enterprise" and onboarding.health_status == "healthy"
            if healthy and onboarding.account_id in links:
                return onboarding, links[onboarding.account_id]
    raise AssertionError("the seeded sandboxes have no healthy, linked enterprise onboarding")


def open_urgent_tickets(project: HelpdeskProject, org: int) -> list[dict[str, Any]]:
    """The agent's three urgent tickets, opened four days ago (on the shared clock) and still open."""
    opened = project.clock.now() - timedelta(days=4)
    return [
        project.zendesk.backend.add_ticket(
            f"Outage {n}", organization_id=org, priority="urgent", status="open", created_at=opened
        )
        for n in range(3)
    ]


def health_fields(project: HelpdeskProject, onboarding: Any) -> tuple[str | None, str, str]:
    with project.store() as store:
        state = store.get_onboarding(onboarding.id)
    deal = project.hubspot.backend.deals[onboarding.deal_id].properties
    company = project.hubspot.backend.companies[onboarding.account_id].properties
    return (
        state.health_status if state else None,
        deal.get("onboarding_health_reasons") or "",
        company.get("onboarding_health_components") or "",
    )


def at_risk(project: HelpdeskProject, onboarding: Any) -> bool:
    status, reasons, components = health_fields(project, onboarding)
    return status == "at-risk" and REASON in reasons and REASON in components
