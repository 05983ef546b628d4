"""What one queued reconcile does, without the engine (``durable.unit.run_trigger``): a helpdesk
instance pulls only its own tickets and says its deal sources should reconcile; a deal source's
reconcile pulls no other instance's tickets; both coalesce by their cursor."""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

from onboard_sync.durable.unit import run_trigger

sys.path.insert(0, str(Path(__file__).parents[1] / "webhooks"))  # the helpdesk project of the webhook tests
from zd_webhook_support import helpdesk_project


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
