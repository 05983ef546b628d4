"""`serve` end to end over real HTTP with Zendesk: HubSpot and Zendesk sandboxes on one clock, a project with
both connectors. A support agent opens three urgent tickets on an enterprise customer's organization; the
Zendesk sandbox delivers its signed webhooks; within seconds, with no cron run, the customer's deal and company
in HubSpot show at-risk health with the ticket reason and exactly one alert task exists. Redelivery changes
nothing; a forged signature or a stale timestamp gets 401 and nothing is stored. A ticket changed seconds
before its webhook (not in Zendesk's export for a minute) is read by id at once."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from webhook_support import wait_for
from zd_webhook_support import (
    REASON,
    ZD_SECRET,
    HelpdeskProject,
    ServedHelpdesk,
    alert_tasks,
    at_risk,
    enterprise_customer,
    health_fields,
    helpdesk_project,
    open_urgent_tickets,
    serving,
)

from onboard_sync.sandbox.zendesk.backend import iso
from onboard_sync.sandbox.zendesk.webhooks import sign


@pytest.fixture
def helpdesk(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[HelpdeskProject]:
    with helpdesk_project(tmp_path, monkeypatch) as project:
        first = project.sync()  # the initial cron sync: onboardings exist, organizations are linked
        assert first.ok, first.as_dict()
        yield project


def _metric(served: ServedHelpdesk, name: str, labels: str = 'instance="zendesk"') -> float:
    text = httpx.get(f"{served.server.base_url}/metrics").text
    lines = [line for line in text.splitlines() if line.startswith(f"{name}{{{labels}}}")]
    return float(lines[0].split()[-1]) if lines else 0.0


def test_urgent_tickets_turn_the_customer_at_risk_within_seconds_once(helpdesk: HelpdeskProject) -> None:
    project = helpdesk
    customer, org = enterprise_customer(project)
    with serving(project) as served:
        assert served.service.routes["zendesk"].scheme.name == "zendesk"
        tickets = open_urgent_tickets(project, org)
        project.clock.advance(minutes=2)  # the agent's changes are past Zendesk's one-minute export horizon

        started = time.monotonic()
        events = [project.zendesk.webhooks.ticket_event(t, "ticket.priority_changed") for t in tickets]
        assert [project.zendesk.webhooks.deliver(served.url, e) for e in events] == [200, 200, 200]
        wait_for(lambda: at_risk(project, customer), timeout=10)
        elapsed = time.monotonic() - started
        assert elapsed < 5, f"at-risk health took {elapsed:.1f}s"
        wait_for(lambda: _metric(served, "onboard_sync_webhook_events_processed_total") == 3)
        assert alert_tasks(project, customer.id) == [f"{customer.id}:alert.blockers:1"]
        with project.store() as store:
            state = store.get_onboarding(customer.id)
        assert state.status.value == "at-risk"

        # Zendesk delivers at least once: the same deliveries again change nothing
        tasks_before = len(project.hubspot.backend.tasks)
        deliveries = list(project.zendesk.webhooks.deliveries)
        for delivery in deliveries:
            assert httpx.post(delivery.url, content=delivery.body, headers=delivery.headers).status_code == 200
        assert _metric(served, "onboard_sync_webhook_events_duplicate_total") == 3
        assert served.service.queue.pending() == 0
        time.sleep(0.3)
        assert alert_tasks(project, customer.id) == [f"{customer.id}:alert.blockers:1"]
        assert len(project.hubspot.backend.tasks) == tasks_before
        # the same event under a new invocation id is still that event (its id is the dedup key)
        assert project.zendesk.webhooks.deliver(served.url, events[0]) == 200
        assert _metric(served, "onboard_sync_webhook_events_duplicate_total") == 4
        # a new event about the same ticket, delivered twice, reconciles once more: still one task
        again = project.zendesk.webhooks.ticket_event(tickets[0], "ticket.comment_added")
        assert project.zendesk.webhooks.deliver(served.url, again, duplicate=True) == 200
        wait_for(lambda: _metric(served, "onboard_sync_webhook_events_processed_total") == 4)
        assert _metric(served, "onboard_sync_webhook_events_duplicate_total") == 5
        assert alert_tasks(project, customer.id) == [f"{customer.id}:alert.blockers:1"]
        assert len(project.hubspot.backend.tasks) == tasks_before


def test_forged_and_stale_deliveries_get_401_and_store_nothing(helpdesk: HelpdeskProject) -> None:
    project = helpdesk
    customer, org = enterprise_customer(project)
    with serving(project) as served:
        tickets = open_urgent_tickets(project, org)
        project.clock.advance(minutes=2)
        body = json.dumps(project.zendesk.webhooks.ticket_event(tickets[0]), separators=(",", ":")).encode()

        def post(secret: str, stamp: str) -> httpx.Response:
            headers = {
                "Content-Type": "application/json",
                "X-Zendesk-Webhook-Signature": sign(secret, stamp, body),
                "X-Zendesk-Webhook-Signature-Timestamp": stamp,
                "X-Zendesk-Webhook-Invocation-Id": "01HFORGEDINVOCATION",
            }
            return httpx.post(served.url, content=body, headers=headers)

        now = project.clock.now()
        assert post("not-the-signing-secret", iso(now)).status_code == 401
        assert post(ZD_SECRET, iso(now - timedelta(minutes=10))).status_code == 401  # a replay
        assert _metric(served, "onboard_sync_webhook_rejected_total", 'instance="zendesk",reason="bad-signature"') == 1
        assert _metric(served, "onboard_sync_webhook_rejected_total", 'instance="zendesk",reason="stale"') == 1
        assert _metric(served, "onboard_sync_webhook_events_received_total") == 0
        time.sleep(0.3)
        with project.store() as store:
            assert store.inbox_pending() == []
        assert served.service.queue.pending() == 0
        assert served.service.worker.reconciles == 0
        status, reasons, _ = health_fields(project, customer)
        assert status == "healthy"
        assert REASON not in reasons
        assert alert_tasks(project, customer.id) == []


def test_tickets_changed_seconds_before_their_webhooks_are_read_by_id_at_once(
    helpdesk: HelpdeskProject,
) -> None:
    project = helpdesk
    customer, org = enterprise_customer(project)
    with serving(project) as served:
        served.service.worker.settle = 3.0  # 61 s in production: Zendesk exports leave out the last minute
        tickets = open_urgent_tickets(project, org)  # changed now: not in Zendesk's export for a minute
        events = [project.zendesk.webhooks.ticket_event(t) for t in tickets]
        assert [project.zendesk.webhooks.deliver(served.url, e) for e in events] == [200, 200, 200]
        wait_for(lambda: at_risk(project, customer), timeout=10)  # no minute passed on the shared clock
        reads = [r for r, n in project.zendesk.request_counts().items() if "show_many" in r for _ in range(n)]
        assert reads, "the named tickets were read by id"
        assert alert_tasks(project, customer.id) == [f"{customer.id}:alert.blockers:1"]

        # the follow-up run still comes (organizations changed meanwhile, say) and changes nothing more
        follow_ups = 'kind="follow-up",outcome="ok"'
        wait_for(lambda: _metric(served, "onboard_sync_reconciles_total", follow_ups) == 1)
        assert alert_tasks(project, customer.id) == [f"{customer.id}:alert.blockers:1"]
