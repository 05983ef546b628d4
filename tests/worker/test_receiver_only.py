"""``serve --receiver-only`` on PostgreSQL: a delivery is persisted to the inbox and its reconcile
enqueued in one transaction; an ``onboard-sync worker`` (here in-process) drains it into the
CRM's handoff tasks, once each, with no embedded worker and no cron."""

from __future__ import annotations

import sys
from collections import Counter
from pathlib import Path

import httpx
import pytest
from engine_support import running_worker

from onboard_sync.durable.system_db import system_database
from onboard_sync.durable.triggers import QUEUE, engine_client
from onboard_sync.server_thread import ServerThread

sys.path.insert(0, str(Path(__file__).parents[1] / "webhooks"))  # the webhook tests' helpers
from webhook_support import SECRET, SECRET_ENV, add_serve_config, deal_task_keys, open_deal, wait_for

pytestmark = pytest.mark.postgres


def test_receivers_enqueue_and_workers_reconcile(sandbox_project, pg_store_url) -> None:
    from onboard_sync.webhooks.server import build_service

    sandbox_project.monkeypatch.setenv(SECRET_ENV, SECRET)
    add_serve_config(sandbox_project, "receiver_only = true")
    sandbox_project.setup_crm()
    sb = sandbox_project.sandbox
    client = engine_client(system_database(pg_store_url))
    store = sandbox_project.store()
    service = build_service(sandbox_project.runtime(), store)
    server = ServerThread(service.app, name="receiver")
    server.start()
    try:
        assert httpx.get(f"{server.base_url}/healthz").json()["worker"] == "engine"
        sb.webhooks.subscribe(f"{server.base_url}/webhooks/hubspot", SECRET)
        deal_id = open_deal(sb)
        sb.backend.set_deal_stage(deal_id, "closedwon")
        assert sb.webhooks.flush(15)
        assert all(d.status == 200 for d in sb.webhooks.deliveries)
        # no worker yet: the events wait in the inbox, each delivery's reconcile on the queue
        queued = client.list_queued_workflows(queue_name=QUEUE, load_input=True)
        assert queued
        assert {w.input["args"][0] for w in queued if w.input} == {"hubspot"}
        assert service.queue.pending() > 0
        assert not deal_task_keys(sb, deal_id)
        with running_worker(sandbox_project.runtime()):
            keys = wait_for(lambda: deal_task_keys(sb, deal_id), timeout=30)
            wait_for(lambda: service.queue.pending() == 0, timeout=30)
            wait_for(lambda: not client.list_queued_workflows(queue_name=QUEUE), timeout=30)
        assert max(Counter(keys).values()) == 1
        with sandbox_project.store() as check:
            assert {o.deal_id for o in check.onboardings(source="hubspot")} == {deal_id}
    finally:
        sb.webhooks.close()
        service.worker.stop()
        server.stop()
        store.close()
        client.destroy()
