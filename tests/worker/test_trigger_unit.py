"""What one queued reconcile does, without the engine (``durable.unit.run_trigger``): a helpdesk
instance pulls only its own tickets and says its deal sources should reconcile; a deal source's
reconcile pulls no other instance's tickets; both coalesce by their cursor. Ticket events of
customers already linked are live: their deals are re-scored at once, the tickets read by id."""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

from onboard_sync.durable.unit import run_trigger

sys.path.insert(0, str(Path(__file__).parents[1] / "webhooks"))  # the helpdesk project of the webhook tests
from zd_webhook_support import (
    alert_tasks,
    at_risk,
    enterprise_customer,
    helpdesk_project,
    open_urgent_tickets,
)

from onboard_sync.inbound import WebhookRequest
from onboard_sync.webhooks.schemes import SchemeOptions, get_scheme


def _receive(store, project, tickets) -> None:
    """Put the Zendesk sandbox's webhook events about ``tickets`` in the inbox, as a receiver does."""
    scheme = get_scheme("zendesk")
    assert scheme is not None
    for ticket in tickets:
        body = json.dumps(project.zendesk.webhooks.ticket_event(ticket, "ticket.priority_changed")).encode()
        request = WebhookRequest("POST", "https://example.test/webhooks/zendesk", body, {}, 0.0)
        for event in scheme.parse(request, SchemeOptions(secret="")):
            store.inbox_add("zendesk", event.key, event.to_payload(), datetime.now(UTC))


def test_helpdesk_and_deal_source_triggers(tmp_path: Path, monkeypatch, caplog) -> None:
    caplog.set_level(logging.INFO, logger="onboard_sync.durable")
    with helpdesk_project(tmp_path, monkeypatch) as project:
        rt = project.runtime()
        event = {"kind": "ticket", "object_id": "1", "type": "zen:event-type:ticket.status_changed", "event": {}}
        with project.store() as store:
            store.inbox_add("zendesk", "zd-1", json.dumps(event), datetime.now(UTC))
            helpdesk = run_trigger(rt, store, "zendesk", "webhook", datetime.now(UTC))
            assert helpdesk["outcome"] == "ok"
            assert helpdesk["helpdesk_events"] is True
            assert helpdesk["events"] == 1
            assert store.inbox_pending() == []
            assert store.get_cursor("zendesk", "tickets") is not None
            assert store.get_cursor("hubspot", "deals") is None  # the helpdesk's run reconciles no deal source
            assert store.runs(limit=10)[0].report["ticket_sources"].keys() == {"zendesk"}

            asked = datetime.now(UTC)
            deals = run_trigger(rt, store, "hubspot", "helpdesk", asked)
            assert deals["outcome"] == "ok"
            assert deals["created"] > 0
            (report,) = [r.report for r in store.runs(limit=10) if r.id == deals["run_ids"][0]]
            assert set(report["ticket_sources"]) <= {"hubspot"}  # its own tickets (HubSpot tickets) only
            # asked for before that run started: covered by it
            assert run_trigger(rt, store, "hubspot", "helpdesk", asked - timedelta(seconds=1)) == {
                "outcome": "nothing-new"
            }
            assert run_trigger(rt, store, "zendesk", "schedule", asked - timedelta(minutes=5)) == {
                "outcome": "nothing-new"
            }
            assert run_trigger(rt, store, "nowhere", "schedule", asked)["outcome"] == "error"
    lines = [r.getMessage() for r in caplog.records if r.name == "onboard_sync.durable"]
    assert lines[0].startswith("zendesk: webhook reconcile ok in ")
    assert lines[1].startswith("hubspot: helpdesk reconcile ok in ")
    assert "created" in lines[1]
    assert lines[2].startswith("hubspot: helpdesk reconcile nothing-new in ")


def test_ticket_events_of_linked_customers_rescore_their_deals_at_once(tmp_path: Path, monkeypatch) -> None:
    with helpdesk_project(tmp_path, monkeypatch) as project:
        assert project.sync().ok  # onboardings exist, Zendesk organizations are linked to companies
        customer, org = enterprise_customer(project)
        rt = project.runtime()
        tickets = open_urgent_tickets(project, org)  # changed now: not in Zendesk's export for a minute
        with project.store() as store:
            _receive(store, project, tickets)
            result = run_trigger(rt, store, "zendesk", "webhook", datetime.now(UTC))
            assert result["outcome"] == "ok", result
            assert result["live"] == ["hubspot"]  # the deal source's immediate fan-out is not needed
            assert result["events"] == 3
            assert result["deals"] >= 1
            assert store.inbox_pending() == []
            (report,) = [r.report for r in store.runs(limit=10) if r.id == result["run_ids"][0]]
            assert report["ticket_sources"]["zendesk"]["tickets_read_by_id"] == 3
            assert set(report["connectors"]) == {"hubspot"}
        assert at_risk(project, customer)
        assert alert_tasks(project, customer.id) == [f"{customer.id}:alert.blockers:1"]


def test_ticket_events_of_an_unlinked_organization_pull_the_helpdesk(tmp_path: Path, monkeypatch) -> None:
    with helpdesk_project(tmp_path, monkeypatch) as project:
        assert project.sync().ok
        rt = project.runtime()
        unknown = project.zendesk.backend.add_ticket(
            "Who are we?", organization_id=987654, priority="urgent", status="open"
        )
        with project.store() as store:
            _receive(store, project, [unknown])
            result = run_trigger(rt, store, "zendesk", "webhook", datetime.now(UTC))
            assert result["outcome"] == "ok", result
            assert result["live"] == []  # the deal sources reconcile, as the workflow fans out
            assert result["helpdesk_events"] is True
            (report,) = [r.report for r in store.runs(limit=10) if r.id == result["run_ids"][0]]
            assert report["connectors"] == {}
            assert "zendesk" in report["ticket_sources"]
