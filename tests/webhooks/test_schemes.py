"""Verification + parsing per vendor scheme: HubSpot batches and dedup keys, Zendesk envelopes and
trigger bodies, Salesforce Outbound Messages (org check, SOAP Ack) and signed Flow callouts."""

from __future__ import annotations

import json
import time
import xml.etree.ElementTree as ET

import pytest

from onboard_sync.connectors.salesforce import outbound_messages as sf
from onboard_sync.inbound import InboundEvent, Rejected, WebhookRequest
from onboard_sync.webhooks.schemes import SchemeOptions, get_scheme
from onboard_sync.webhooks.signatures import callout_signature, hubspot_v3, zendesk_signature

URL = "http://127.0.0.1:8787/webhooks/hubspot"


def _hubspot_request(events: object, secret: str = "s", now: float | None = None) -> WebhookRequest:
    body = json.dumps(events).encode()
    stamp = str(int((now or time.time()) * 1000))
    headers = {
        "x-hubspot-signature-v3": hubspot_v3(secret, "POST", URL, body, stamp),
        "x-hubspot-request-timestamp": stamp,
    }
    return WebhookRequest("POST", URL, body, headers, time.time())


def _event(**over: object) -> dict[str, object]:
    base = {
        "eventId": 7,
        "subscriptionId": 1,
        "portalId": 62515,
        "appId": 9,
        "occurredAt": 1700000000000,
        "subscriptionType": "deal.propertyChange",
        "attemptNumber": 0,
        "objectId": 9000000001,
        "propertyName": "dealstage",
        "propertyValue": "closedwon",
        "changeSource": "CRM_UI",
    }
    return {**base, **over}


def test_hubspot_parse_kinds_and_robust_dedup_keys() -> None:
    scheme = get_scheme("hubspot")
    assert scheme is not None
    options = SchemeOptions("s")
    req = _hubspot_request([_event(), _event(subscriptionType="company.propertyChange", objectId=5)])
    scheme.verify(req, options)
    deal, company = scheme.parse(req, options)
    assert (deal.kind, deal.object_id, deal.type) == ("deal", "9000000001", "deal.propertyChange")
    assert company.kind == "account"
    # a retry (attemptNumber 1) is the same event; the same eventId on another object or subscription is not
    retry = scheme.parse(_hubspot_request([_event(attemptNumber=3)]), options)[0]
    assert retry.key == deal.key
    clash = scheme.parse(_hubspot_request([_event(objectId=9000000002), _event(subscriptionId=2)]), options)
    assert len({deal.key, *(e.key for e in clash)}) == 3
    # the stored payload round-trips
    again = InboundEvent.from_payload(deal.key, deal.to_payload())
    assert (again.kind, again.object_id, again.raw["propertyValue"]) == ("deal", "9000000001", "closedwon")


@pytest.mark.parametrize(
    "body", [b"not json", b'{"an":"object"}', b"[1, 2]", b'[{"subscriptionType":"deal.creation"}]']
)
def test_hubspot_malformed_bodies_are_400(body: bytes) -> None:
    scheme = get_scheme("hubspot")
    assert scheme is not None
    with pytest.raises(Rejected) as exc:
        scheme.parse(WebhookRequest("POST", URL, body, {}, time.time()), SchemeOptions("s"))
    assert exc.value.status == 400


def test_zendesk_envelope_and_trigger_body() -> None:
    scheme = get_scheme("zendesk")
    assert scheme is not None
    secret = "dGhpc19zZWNyZXRfaXNfZm9yX3Rlc3Rpbmdfb25seQ=="
    envelope = {
        "type": "zen:event-type:ticket.status_changed",
        "account_id": 1,
        "id": "01HN-abc",
        "time": "2024-04-17T17:18:10Z",
        "subject": "zen:ticket:35436",
        "detail": {"id": "35436"},
        "event": {"current": "solved", "previous": "open"},
    }
    body = json.dumps(envelope).encode()
    stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    headers = {
        "x-zendesk-webhook-signature": zendesk_signature(secret, stamp, body),
        "x-zendesk-webhook-signature-timestamp": stamp,
    }
    req = WebhookRequest("POST", "http://x/webhooks/zendesk", body, headers, time.time())
    scheme.verify(req, SchemeOptions(secret))
    [event] = scheme.parse(req, SchemeOptions(secret))
    assert (event.key, event.kind, event.object_id) == ("zendesk:01HN-abc", "ticket", "35436")
    with pytest.raises(Rejected) as forged:
        scheme.verify(req, SchemeOptions("wrong"))
    assert forged.value.status == 401

    trigger = WebhookRequest(
        "POST", "u", b'{"ticket_id": 42, "event": "solved"}', {"x-zendesk-webhook-invocation-id": "inv-1"}, time.time()
    )
    [t] = scheme.parse(trigger, SchemeOptions(secret))
    assert (t.key, t.object_id, t.type) == ("zendesk:inv-1", "42", "solved")


OM = b"""<?xml version="1.0" encoding="UTF-8"?>
<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/"
  xmlns:xsd="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
 <soapenv:Body>
  <notifications xmlns="http://soap.sforce.com/2005/09/outbound">
   <OrganizationId>00Do0000000e0vQEAQ</OrganizationId>
   <ActionId>04k1N0000008pXOQAY</ActionId>
   <SessionId xsi:nil="true"/>
   <EnterpriseUrl>https://acme.my.salesforce.com/services/Soap/c/42.0/00Do0000000e0vQ</EnterpriseUrl>
   <PartnerUrl>https://acme.my.salesforce.com/services/Soap/u/42.0/00Do0000000e0vQ</PartnerUrl>
   <Notification>
    <Id>04l1N00000HVEMpQAP</Id>
    <sObject xsi:type="sf:Opportunity" xmlns:sf="urn:sobject.enterprise.soap.sforce.com">
     <sf:Id>0065Y00001Suvw6QAB</sf:Id>
     <sf:StageName>Closed Won</sf:StageName>
    </sObject>
   </Notification>
  </notifications>
 </soapenv:Body>
</soapenv:Envelope>"""


def test_salesforce_outbound_message_org_check_and_ack() -> None:
    scheme = get_scheme("salesforce-outbound")
    assert scheme is not None
    req = WebhookRequest("POST", "u", OM, {}, time.time())
    options = SchemeOptions("", organization_id="00Do0000000e0vQ")  # the 15-character form matches
    scheme.verify(req, options)
    [event] = scheme.parse(req, options)
    assert (event.kind, event.object_id, event.key) == (
        "deal",
        "0065Y00001Suvw6QAB",
        "salesforce:00Do0000000e0vQ:04l1N00000HVEMpQAP",
    )
    assert event.raw["fields"]["StageName"] == "Closed Won"
    ack = scheme.ack([event])
    root = ET.fromstring(ack.body)
    assert root.findtext(f"{{{sf.SOAP_NS}}}Body/{{{sf.OM_NS}}}notificationsResponse/{{{sf.OM_NS}}}Ack") == "true"
    assert ack.content_type.startswith("text/xml")
    with pytest.raises(Rejected) as other:
        scheme.parse(req, SchemeOptions("", organization_id="00Dxx0000001gPL"))
    assert (other.value.status, other.value.reason) == (401, "wrong-organization")


@pytest.mark.parametrize(
    "body",
    [
        b"<nope",
        b"<a/>",
        b'<!DOCTYPE x [<!ENTITY e "x">]><a>&e;</a>',
        OM.replace(b"<OrganizationId>00Do0000000e0vQEAQ</OrganizationId>", b""),
    ],
)
def test_salesforce_malformed_messages_are_400(body: bytes) -> None:
    scheme = get_scheme("salesforce-outbound")
    assert scheme is not None
    with pytest.raises(Rejected) as exc:
        scheme.parse(
            WebhookRequest("POST", "u", body, {}, time.time()), SchemeOptions("", organization_id="00Do0000000e0vQ")
        )
    assert exc.value.status == 400


def test_salesforce_flow_callout_signed_json() -> None:
    scheme = get_scheme("salesforce-flow")
    assert scheme is not None
    body = json.dumps(
        [{"id": "e1", "object": "Opportunity", "recordId": "0065Y00001Suvw6QAB", "event": "won"}]
    ).encode()
    stamp = str(int(time.time()))
    headers = {"x-onboard-sync-signature": callout_signature("k", stamp, body), "x-onboard-sync-timestamp": stamp}
    req = WebhookRequest("POST", "u", body, headers, time.time())
    scheme.verify(req, SchemeOptions("k"))
    [event] = scheme.parse(req, SchemeOptions("k"))
    assert (event.key, event.kind, event.type) == ("salesforce-flow:e1", "deal", "Opportunity.won")
    with pytest.raises(Rejected):
        scheme.verify(req, SchemeOptions("not-k"))
