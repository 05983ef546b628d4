"""The Salesforce sandbox sends Outbound Messages itself, as an org does: a stage change queues a
notification, the SOAP request reaches `serve`, whose Ack ends it; no Ack means retries with a growing
delay; a record changed twice before delivery is sent once with its latest values."""

from __future__ import annotations

import socket
import xml.etree.ElementTree as ET
from typing import Any

from sf_webhook_support import open_opportunity, opportunity_task_keys, route_url, serving
from webhook_support import wait_for

from onboard_sync.connectors.salesforce import outbound_messages as sf
from onboard_sync.sandbox.salesforce.schema import WON_STAGE


def test_a_won_opportunity_reaches_serve_as_an_outbound_message(salesforce_project: Any) -> None:
    sb = salesforce_project.sandbox
    with serving(salesforce_project) as served:
        sb.outbound.subscribe(route_url(served))
        opp_id = open_opportunity(sb)
        sb.backend.update("Opportunity", opp_id, {"Amount": 1234})  # not a stage change: nothing sent
        assert sb.outbound.flush(5)
        assert sb.outbound.deliveries == []
        sb.backend.set_stage(opp_id, WON_STAGE)
        wait_for(lambda: opportunity_task_keys(sb, opp_id), timeout=15)
        assert sb.outbound.flush(5)
        assert [(d.notifications, d.attempt, d.status, d.acked) for d in sb.outbound.deliveries] == [(1, 0, 200, True)]


def _refused_url() -> str:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}/webhooks/salesforce"  # nothing listens there now


def test_without_an_ack_the_message_is_retried_with_a_growing_delay(salesforce_project: Any) -> None:
    sb = salesforce_project.sandbox
    sb.outbound.subscribe(_refused_url(), retry_delay=0.05)
    opp_id = open_opportunity(sb)
    sb.backend.set_stage(opp_id, WON_STAGE)
    wait_for(lambda: len(sb.outbound.deliveries) >= 4, timeout=10)
    sb.outbound.close()
    attempts = [d.attempt for d in sb.outbound.deliveries]
    assert attempts[:4] == [0, 1, 2, 3]
    assert not any(d.acked for d in sb.outbound.deliveries)


def test_a_record_changed_twice_before_delivery_is_sent_once_with_its_latest_values(salesforce_project: Any) -> None:
    sb = salesforce_project.sandbox
    sb.outbound.subscribe(_refused_url(), retry_delay=60, linger=0.5)
    opp_id = open_opportunity(sb)
    sb.backend.set_stage(opp_id, "Negotiation/Review")
    sb.backend.set_stage(opp_id, WON_STAGE)
    wait_for(lambda: sb.outbound.deliveries, timeout=10)
    sb.outbound.close()
    root = ET.fromstring(sb.outbound.deliveries[0].body)
    notes = root.findall(f".//{{{sf.OM_NS}}}Notification")
    assert len(notes) == 1
    values = {child.tag.split("}")[-1]: child.text for child in notes[0].find(f"{{{sf.OM_NS}}}sObject") or ()}
    assert values["Id"] == opp_id
    assert values["StageName"] == WON_STAGE
