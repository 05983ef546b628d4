"""`serve` end to end over real HTTP on the Salesforce sandbox: a rep wins an Opportunity, Salesforce posts
its Outbound Message, `serve` answers the SOAP Ack and the handoff Tasks appear in the org within seconds,
with no cron run. Redeliveries change nothing; a message from another org is refused and not persisted.
The signed JSON callout (`salesforce-flow`) does the same. The org id comes from the connector settings."""

from __future__ import annotations

import time
import xml.etree.ElementTree as ET
from collections import Counter
from pathlib import Path
from typing import Any

import httpx
import pytest
from sf_webhook_support import (
    FLOW_SECRET,
    FLOW_SECRET_ENV,
    open_opportunity,
    opportunity_task_keys,
    outbound_message,
    post_callout,
    post_outbound,
    route_url,
    serving,
)
from webhook_support import add_serve_config, wait_for

from onboard_sync.connectors.salesforce import outbound_messages as sf
from onboard_sync.errors import ConfigError
from onboard_sync.sandbox.salesforce.schema import WON_STAGE
from onboard_sync.webhooks.server import resolve_routes

OTHER_ORG = "00D000000000002AAA"


def _is_ack(response: httpx.Response) -> bool:
    if response.status_code != 200 or not response.headers["content-type"].startswith("text/xml"):
        return False
    root = ET.fromstring(response.content)
    return root.findtext(f"{{{sf.SOAP_NS}}}Body/{{{sf.OM_NS}}}notificationsResponse/{{{sf.OM_NS}}}Ack") == "true"


def _metric(served: Any, name: str) -> float:
    text = httpx.get(f"{served.server.base_url}/metrics").text
    lines = [line for line in text.splitlines() if line.startswith(f'{name}{{instance="salesforce"}}')]
    return float(lines[0].split()[-1]) if lines else 0.0


def test_winning_an_opportunity_creates_its_handoff_tasks_within_seconds(salesforce_project: Any) -> None:
    sb = salesforce_project.sandbox
    with serving(salesforce_project) as served:
        assert served.service.routes["salesforce"].scheme.name == "salesforce-outbound"
        opp_id = open_opportunity(sb)
        won_before = {i for i, o in sb.backend.opportunities.items() if o["IsWon"]}

        started = time.monotonic()
        sb.backend.set_stage(opp_id, WON_STAGE)  # a rep closes the deal in Salesforce
        answer = post_outbound(route_url(served), outbound_message(sb, [opp_id]))
        assert _is_ack(answer), answer.text
        keys = wait_for(lambda: opportunity_task_keys(sb, opp_id), timeout=10)
        elapsed = time.monotonic() - started
        assert elapsed < 5, f"handoff tasks took {elapsed:.1f}s"
        assert max(Counter(keys).values()) == 1
        for task in sb.backend.tasks.values():
            if str(task.get("OnboardSync_Key__c") or "").startswith(f"salesforce:{opp_id}:"):
                assert task["WhatId"] == opp_id, "the task is on the Opportunity"
                assert task["OwnerId"] in sb.backend.users
        wait_for(lambda: served.service.queue.pending() == 0)
        with salesforce_project.store() as store:
            onboarding = store.get_onboarding(f"salesforce:{opp_id}")
            assert store.get_cursor("salesforce", "deals") is None, "a webhook reconcile moves no cursor (no cron ran)"
            assert {o.deal_id for o in store.onboardings(source="salesforce")} == {opp_id}
        assert onboarding is not None
        assert sb.backend.opportunities[opp_id]["Onboarding_Phase__c"] == onboarding.phase
        assert all(not opportunity_task_keys(sb, other) for other in won_before), "other won deals untouched"
        assert _metric(served, "onboard_sync_webhook_events_processed_total") == 1


def test_the_same_outbound_message_three_times_gives_one_set_of_tasks(salesforce_project: Any) -> None:
    sb = salesforce_project.sandbox
    with serving(salesforce_project) as served:
        opp_id = open_opportunity(sb)
        sb.backend.set_stage(opp_id, WON_STAGE)
        message = outbound_message(sb, [opp_id])
        # Salesforce redelivers when an Ack is lost: twice before the reconcile, once after it
        assert _is_ack(post_outbound(route_url(served), message))
        assert _is_ack(post_outbound(route_url(served), message))
        keys = wait_for(lambda: opportunity_task_keys(sb, opp_id))
        wait_for(lambda: served.service.queue.pending() == 0)
        tasks_before = len(sb.backend.tasks)
        assert _is_ack(post_outbound(route_url(served), message))
        wait_for(lambda: served.service.queue.pending() == 0)
        time.sleep(0.3)
        assert max(Counter(opportunity_task_keys(sb, opp_id)).values()) == 1
        assert sorted(opportunity_task_keys(sb, opp_id)) == sorted(keys)
        assert len(sb.backend.tasks) == tasks_before
        assert _metric(served, "onboard_sync_webhook_events_received_total") == 1
        assert _metric(served, "onboard_sync_webhook_events_duplicate_total") == 2
        with salesforce_project.store() as store:
            assert len(store.onboardings(source="salesforce")) == 1


def test_a_message_from_another_org_is_refused_and_not_persisted(salesforce_project: Any) -> None:
    sb = salesforce_project.sandbox
    with serving(salesforce_project) as served:
        opp_id = open_opportunity(sb)
        sb.backend.set_stage(opp_id, WON_STAGE)
        answer = post_outbound(route_url(served), outbound_message(sb, [opp_id], organization_id=OTHER_ORG))
        assert answer.status_code == 401
        assert answer.json()["error"] == "wrong-organization"
        assert not _is_ack(answer), "no Ack: a forged message must not look accepted"
        time.sleep(0.3)
        assert served.service.queue.pending() == 0
        with salesforce_project.store() as store:
            assert store.inbox_pending() == []
            assert store.get_onboarding(f"salesforce:{opp_id}") is None
        assert opportunity_task_keys(sb, opp_id) == []
        metrics = httpx.get(f"{served.server.base_url}/metrics").text
        assert 'onboard_sync_webhook_rejected_total{instance="salesforce",reason="wrong-organization"} 1.0' in metrics

        # the org's own 15-character id is the same org
        fifteen = outbound_message(sb, [opp_id], organization_id=sb.organization_id[:15])
        assert _is_ack(post_outbound(route_url(served), fifteen))
        assert wait_for(lambda: opportunity_task_keys(sb, opp_id))


def test_a_signed_flow_callout_creates_the_tasks_and_a_forged_one_is_refused(salesforce_project: Any) -> None:
    sb = salesforce_project.sandbox
    salesforce_project.monkeypatch.setenv(FLOW_SECRET_ENV, FLOW_SECRET)
    with serving(salesforce_project, '[serve.webhooks.salesforce]\nscheme = "salesforce-flow"\n') as served:
        opp_id = open_opportunity(sb)
        sb.backend.set_stage(opp_id, WON_STAGE)
        item = {"id": f"won-{opp_id}", "object": "Opportunity", "recordId": opp_id, "event": "won"}
        forged = post_callout(route_url(served), [item], secret="not-the-secret")
        assert forged.status_code == 401
        with salesforce_project.store() as store:
            assert store.inbox_pending() == []
        answer = post_callout(route_url(served), [item])
        assert answer.status_code == 200, answer.text
        keys = wait_for(lambda: opportunity_task_keys(sb, opp_id), timeout=10)
        assert max(Counter(keys).values()) == 1


def _drop_connector_org_id(project: Any) -> None:
    path: Path = project.config_path
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    path.write_text("".join(line for line in lines if not line.startswith("organization_id")), encoding="utf-8")


def test_the_org_id_comes_from_the_connector_settings_or_the_serve_route(salesforce_project: Any) -> None:
    sb = salesforce_project.sandbox
    add_serve_config(salesforce_project)
    route = resolve_routes(salesforce_project.runtime())["salesforce"]
    assert (route.scheme.name, route.options.organization_id) == ("salesforce-outbound", sb.organization_id)

    _drop_connector_org_id(salesforce_project)
    with pytest.raises(ConfigError, match=r"\[connectors\.salesforce\] organization_id") as missing:
        resolve_routes(salesforce_project.runtime())
    assert "config.toml" in str(missing.value)

    with salesforce_project.config_path.open("a", encoding="utf-8") as fh:
        fh.write(f'\n[serve.webhooks.salesforce]\norganization_id = "{OTHER_ORG}"\n')
    route = resolve_routes(salesforce_project.runtime())["salesforce"]
    assert route.options.organization_id == OTHER_ORG


def test_a_malformed_org_id_setting_names_the_key(salesforce_project: Any) -> None:
    text = salesforce_project.config_path.read_text(encoding="utf-8")
    salesforce_project.config_path.write_text(
        text.replace(salesforce_project.sandbox.organization_id, "00Dsandbox"), encoding="utf-8"
    )
    with pytest.raises(ConfigError, match="organization_id"):
        salesforce_project.runtime()


def test_the_flow_secret_env_comes_from_the_connector_settings(salesforce_project: Any) -> None:
    add_serve_config(salesforce_project, '[serve.webhooks.salesforce]\nscheme = "salesforce-flow"\n')
    salesforce_project.monkeypatch.delenv(FLOW_SECRET_ENV, raising=False)
    with pytest.raises(ConfigError, match=FLOW_SECRET_ENV):
        resolve_routes(salesforce_project.runtime())
    salesforce_project.monkeypatch.setenv(FLOW_SECRET_ENV, FLOW_SECRET)
    route = resolve_routes(salesforce_project.runtime())["salesforce"]
    assert route.options.secret == FLOW_SECRET
