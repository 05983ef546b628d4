"""Each webhook reconcile of serve's worker writes one INFO line (kind, outcome, deals, counts, duration),
JSON with `--log-format json`, and never a secret."""

from __future__ import annotations

import json
import logging

import pytest
from webhook_support import SECRET, Served, deal_task_keys, open_deal, wait_for

from onboard_sync.logs import JsonFormatter


def test_a_webhook_reconcile_logs_one_info_line(served: Served, caplog: pytest.LogCaptureFixture) -> None:
    sb = served.project.sandbox
    caplog.set_level(logging.INFO, logger="onboard_sync.webhooks.worker")
    sb.webhooks.subscribe(served.url, SECRET)
    deal_id = open_deal(sb)

    sb.backend.set_deal_stage(deal_id, "closedwon")
    wait_for(lambda: deal_task_keys(sb, deal_id), timeout=10)
    wait_for(lambda: served.service.queue.pending() == 0, timeout=10)
    records = wait_for(lambda: [r for r in caplog.records if getattr(r, "fields", {}).get("kind") == "webhook"])

    def lines() -> list[logging.LogRecord]:
        return [r for r in caplog.records if getattr(r, "fields", {}).get("event") == "webhook.reconcile"]

    # one line per reconcile (a reconcile's line follows its count: wait for the last to be written)
    assert wait_for(lambda: len(lines()) == served.service.worker.reconciles)
    record = records[0]  # the closing; onboard-sync's own field writes come back as later events
    fields = record.fields  # type: ignore[attr-defined]
    assert record.levelname == "INFO"
    assert fields["event"] == "webhook.reconcile"
    assert fields["outcome"] == "ok"
    assert fields["deals"] == 1
    assert fields["connectors"]["hubspot"]["created"] == len(deal_task_keys(sb, deal_id))
    assert fields["api_calls"] > 0
    assert fields["duration_s"] > 0
    assert record.getMessage().startswith("webhook reconcile ok in ")
    line = JsonFormatter().format(record)
    assert json.loads(line)["connectors"]["hubspot"]["deals_pulled"] == 1
    assert SECRET not in line
    assert sb.token not in line
