"""The durable engine in one process on PostgreSQL and the HubSpot sandbox: triggers, coalescing,
the inbox drained by webhook triggers, and schedules stored in the database."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from engine_support import running_worker, wait_result

from onboard_sync.durable.schedules import list_views, set_paused
from onboard_sync.durable.system_db import system_database
from onboard_sync.durable.triggers import engine_client, enqueue_options, request_reconcile, trigger_args
from onboard_sync.errors import UserError

pytestmark = pytest.mark.postgres


def test_a_trigger_reconciles_and_a_trigger_with_nothing_new_returns_at_once(sandbox_project, pg_store_url) -> None:
    sandbox_project.setup_crm()
    client = engine_client(system_database(pg_store_url))
    before = datetime.now(UTC) - timedelta(seconds=1)
    with running_worker(sandbox_project.runtime()) as reconciled:
        first = wait_result(client, request_reconcile(client, "hubspot", "schedule"))
        assert first["outcome"] == "ok"
        assert first["created"] > 0
        # asked for before the first run started: that run covered it
        late = client.enqueue(enqueue_options("hubspot"), *trigger_args("hubspot", "schedule", before))
        assert wait_result(client, late.get_workflow_id()) == {"outcome": "nothing-new"}
        # a webhook trigger with no event left in the inbox
        assert wait_result(client, request_reconcile(client, "hubspot", "webhook")) == {"outcome": "nothing-new"}
        # asked for now: a new incremental run, which finds nothing to write
        again = wait_result(client, request_reconcile(client, "hubspot", "schedule"))
        assert again["outcome"] == "ok"
        assert again["created"] == again["updated"] == 0
    assert [(i, t, o) for i, t, o, _ in reconciled] == [
        ("hubspot", "schedule", "ok"),
        ("hubspot", "schedule", "nothing-new"),
        ("hubspot", "webhook", "nothing-new"),
        ("hubspot", "schedule", "ok"),
    ]
    client.destroy()


def test_a_webhook_trigger_drains_the_instance_inbox(sandbox_project, pg_store_url) -> None:
    sandbox_project.setup_crm()
    client = engine_client(system_database(pg_store_url))
    deal_id = next(iter(sandbox_project.sandbox.backend.deals))
    event = {"kind": "deal", "object_id": deal_id, "type": "deal.propertyChange", "event": {}}
    with sandbox_project.store() as store:
        store.inbox_add("hubspot", "evt-1", json.dumps(event), datetime.now(UTC))
        store.inbox_add("zendesk", "evt-2", json.dumps(event), datetime.now(UTC))  # not this instance's
    with running_worker(sandbox_project.runtime()):
        result = wait_result(client, request_reconcile(client, "hubspot", "webhook"))
    assert result["outcome"] == "ok"
    assert result["events"] == 1
    assert result["deals"] == 1
    with sandbox_project.store() as store:
        assert [e.source for e in store.inbox_pending()] == ["zendesk"]
        assert store.workers() == []  # a worker that stopped cleanly leaves no heartbeat row
    client.destroy()


def test_a_webhook_trigger_leaves_changes_that_cannot_start_an_onboarding_unread(sandbox_project, pg_store_url) -> None:
    """An amount change of a deal without onboarding is triage's to drop, as in serve's own worker; the
    same change on a tracked deal is read."""
    sandbox_project.setup_crm()
    sb = sandbox_project.sandbox
    client = engine_client(system_database(pg_store_url))
    deal_id = next(iter(sb.backend.deals))
    amount = {"kind": "deal", "object_id": deal_id, "type": "deal.propertyChange", "event": {"propertyName": "amount"}}

    def deal_reads() -> int:
        return sum(n for route, n in sb.request_counts().items() if "objects/deals/batch/read" in route)

    with sandbox_project.store() as store:
        store.inbox_add("hubspot", "evt-1", json.dumps(amount), datetime.now(UTC))
    with running_worker(sandbox_project.runtime()):
        result = wait_result(client, request_reconcile(client, "hubspot", "webhook"))
        assert result == {"outcome": "nothing-new", "events": 1}
        assert deal_reads() == 0
        with sandbox_project.store() as store:
            assert store.inbox_pending() == [], "the dropped event is completed, not left for later"

        sb.backend.set_deal_stage(deal_id, "closedwon")
        assert wait_result(client, request_reconcile(client, "hubspot", "schedule"))["outcome"] == "ok"
        with sandbox_project.store() as store:
            assert store.get_onboardings([f"hubspot:{deal_id}"]), "the won deal is tracked now"
            store.inbox_add("hubspot", "evt-2", json.dumps(amount), datetime.now(UTC))
        reads = deal_reads()
        result = wait_result(client, request_reconcile(client, "hubspot", "webhook"))
        assert (result["outcome"], result["deals"]) == ("ok", 1)
        assert deal_reads() == reads + 1, "a tracked deal's amount change is read"
    client.destroy()


def test_schedules_from_the_config_live_in_the_database(sandbox_project, pg_store_url) -> None:
    sandbox_project.setup_crm()
    config = sandbox_project.config_path
    config.write_text(config.read_text().replace('type = "hubspot"', 'type = "hubspot"\nschedule = "*/15 * * * *"', 1))
    client = engine_client(system_database(pg_store_url))
    with running_worker(sandbox_project.runtime()):
        (view,) = list_views(client)
        assert (view.instance, view.schedule, view.status, view.last_run) == ("hubspot", "*/15 * * * *", "ACTIVE", None)
        assert view.next_run is not None
        assert view.next_run.minute % 15 == 0
        set_paused(client, "hubspot", True)
        assert list_views(client)[0].status == "PAUSED"
        assert list_views(client)[0].next_run is None
        set_paused(client, "hubspot", False)
        tick = client.trigger_schedule("reconcile:hubspot")  # fires the tick now, as the scheduler would
        wait_result(client, tick.get_workflow_id())
        (child,) = [w for w in client.list_workflows(workflow_id_prefix="tick:hubspot:")]
        assert wait_result(client, child.workflow_id)["outcome"] == "ok"
    with pytest.raises(UserError, match="no schedule in the database"):
        set_paused(client, "salesforce", True)
    client.destroy()
