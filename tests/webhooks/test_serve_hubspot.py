"""`serve` end to end over real HTTP: the HubSpot sandbox closes a deal and delivers its signed webhook;
the handoff tasks appear in the sandbox CRM within seconds, with no cron run; duplicates and
reordering change nothing."""

from __future__ import annotations

import time
from collections import Counter
from typing import Any

import httpx
import pytest
from webhook_support import SECRET, Served, deal_task_keys, open_deal, wait_for


@pytest.mark.parametrize("served", ["thread", "process"], indirect=True)
def test_closing_a_deal_creates_its_handoff_tasks_within_seconds(served: Served) -> None:
    sb = served.project.sandbox
    sb.webhooks.subscribe(served.url, SECRET)
    deal_id = open_deal(sb)
    won_before = {d for d, deal in sb.backend.deals.items() if deal.properties.get("dealstage") == "closedwon"}

    started = time.monotonic()
    sb.backend.set_deal_stage(deal_id, "closedwon")
    keys = wait_for(lambda: deal_task_keys(sb, deal_id), timeout=10)
    elapsed = time.monotonic() - started
    assert elapsed < 5, f"handoff tasks took {elapsed:.1f}s"
    assert keys
    assert max(Counter(keys).values()) == 1

    # tasks are created before the deal's fields are written and before the worker marks the
    # events processed: wait for the whole reconcile before looking at the rest
    processed = 'onboard_sync_webhook_events_processed_total{instance="hubspot"}'

    def metrics_once_processed() -> str:
        text = httpx.get(f"{served.server.base_url}/metrics").text
        return text if processed in text else ""

    metrics = wait_for(metrics_once_processed, timeout=10)
    assert processed in metrics
    wait_for(lambda: served.service.queue.pending() == 0, timeout=10)
    with served.project.store() as store:
        onboarding = store.get_onboarding(f"hubspot:{deal_id}")
        assert store.get_cursor("hubspot", "deals") is None, "a webhook reconcile moves no cursor (no cron ran)"
        # only that deal was reconciled: the other won deals were not touched
        assert {o.deal_id for o in store.onboardings(source="hubspot")} == {deal_id}
    assert onboarding is not None
    assert sb.backend.deals[deal_id].properties["onboarding_phase"] == onboarding.phase
    assert all(not deal_task_keys(sb, other) for other in won_before)
    assert all(d.status == 200 for d in sb.webhooks.deliveries)
    health = httpx.get(f"{served.server.base_url}/healthz").json()
    assert health["status"] == "ok"
    assert health["worker"] == "running"


def test_the_same_event_five_times_gives_one_result(served: Served) -> None:
    sb = served.project.sandbox
    sb.webhooks.subscribe(served.url, SECRET, duplicates=5)
    deal_id = open_deal(sb)
    sb.backend.set_deal_stage(deal_id, "closedwon")
    assert sb.webhooks.flush(15)
    keys = wait_for(lambda: deal_task_keys(sb, deal_id))
    wait_for(lambda: served.service.queue.pending() == 0)
    ok = [d for d in sb.webhooks.deliveries if d.status == 200]
    assert len(ok) >= 5, "every batch was delivered five times and acknowledged"
    assert len(ok) % 5 == 0
    assert max(Counter(deal_task_keys(sb, deal_id)).values()) == 1
    assert sorted(deal_task_keys(sb, deal_id)) == sorted(keys)
    metrics = httpx.get(f"{served.server.base_url}/metrics").text
    dup = [line for line in metrics.splitlines() if line.startswith("onboard_sync_webhook_events_duplicate_total")]
    assert dup
    assert float(dup[0].split()[-1]) > 0
    with served.project.store() as store:
        assert len(store.onboardings(source="hubspot")) == 1


def test_out_of_order_delivery_with_a_later_update_converges(served: Served) -> None:
    sb = served.project.sandbox
    sb.webhooks.subscribe(served.url, SECRET)
    won_id = open_deal(sb)
    sb.webhooks.hold()
    sb.backend.set_deal_stage(won_id, "closedwon")
    sb.backend.update("deals", won_id, {"amount": "123456"})  # a later update, delivered first
    sb.webhooks.release(order="reverse")
    keys = wait_for(lambda: deal_task_keys(sb, won_id))
    assert sb.webhooks.flush(15)
    wait_for(lambda: served.service.queue.pending() == 0)
    assert max(Counter(deal_task_keys(sb, won_id)).values()) == 1
    assert sorted(deal_task_keys(sb, won_id)) == sorted(keys)
    with served.project.store() as store:
        onboarding = store.get_onboarding(f"hubspot:{won_id}")
        deal = store.get_deals("hubspot", [won_id])[won_id]
    assert onboarding is not None
    assert deal.amount == 123456, "the reconcile read the deal's current state, not the event order"

    # a deal won and then lost before anything is delivered, events reversed: no onboarding at all
    lost_id = open_deal_other(sb, won_id)
    sb.webhooks.hold()
    sb.backend.set_deal_stage(lost_id, "closedwon")
    sb.backend.set_deal_stage(lost_id, "closedlost")
    sb.webhooks.release(order="reverse")
    assert sb.webhooks.flush(15)
    wait_for(lambda: served.service.queue.pending() == 0)
    time.sleep(0.3)
    assert deal_task_keys(sb, lost_id) == []
    with served.project.store() as store:
        assert store.get_onboarding(f"hubspot:{lost_id}") is None


def open_deal_other(sb: Any, not_this: str) -> str:
    backend = sb.backend
    for deal_id, deal in sorted(backend.deals.items()):
        if deal_id != not_this and deal.properties.get("dealstage") not in ("closedwon", "closedlost"):
            return deal_id
    raise AssertionError("no second open deal")
