"""Salesforce Outbound Messages (SOAP): parse the ``notifications`` envelope, check the org, build the Ack.

Pure functions used by the ``salesforce-outbound`` scheme (:mod:`.webhooks`). Outbound
Messages carry no signature: the ``OrganizationId`` is the only per-org proof, so it is compared
(constant time, on its 15-character case-sensitive form) with the configured org. Salesforce
retries until it gets HTTP 200 with ``<Ack>true</Ack>`` in a ``notificationsResponse``, so a
duplicate is acknowledged like a new one. Documents with a DOCTYPE are refused (no entity tricks).
"""

from __future__ import annotations

import hmac
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field

from onboard_sync.inbound import Rejected, malformed

SOAP_NS = "http://schemas.xmlsoap.org/soap/envelope/"
OM_NS = "http://soap.sforce.com/2005/09/outbound"
XSI_NS = "http://www.w3.org/2001/XMLSchema-instance"

ACK = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    f'<soapenv:Envelope xmlns:soapenv="{SOAP_NS}"><soapenv:Body>'
    f'<notificationsResponse xmlns="{OM_NS}"><Ack>true</Ack></notificationsResponse>'
    "</soapenv:Body></soapenv:Envelope>"
).encode()

KINDS = {"Opportunity": "deal", "Account": "account", "Contact": "contact", "Task": "task", "Case": "ticket"}


@dataclass(frozen=True, slots=True)
class Notification:
    """One ``Notification``: its id (the dedup key), the sObject type, record id and sent fields."""

    id: str
    object_type: str
    record_id: str
    fields: dict[str, str | None] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class OutboundMessage:
    organization_id: str
    action_id: str
    notifications: list[Notification]


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def parse_outbound_message(body: bytes) -> OutboundMessage:
    """Parse a SOAP ``notifications`` message, or raise ``Rejected`` (400) saying what is missing."""
    if b"<!DOCTYPE" in body.upper() or b"<!ENTITY" in body.upper():
        raise malformed("XML with a DOCTYPE or ENTITY is not accepted")
    try:
        root = ET.fromstring(body)
    except ET.ParseError as exc:
        raise malformed(f"not XML: {exc}") from None
    notifications = root.find(f"{{{SOAP_NS}}}Body/{{{OM_NS}}}notifications")
    if notifications is None:
        raise malformed("no soapenv:Body/notifications element (not an Outbound Message)")
    org = (notifications.findtext(f"{{{OM_NS}}}OrganizationId") or "").strip()
    if not org:
        raise malformed("notifications has no OrganizationId")
    items: list[Notification] = []
    for node in notifications.findall(f"{{{OM_NS}}}Notification"):
        nid = (node.findtext(f"{{{OM_NS}}}Id") or "").strip()
        sobject = node.find(f"{{{OM_NS}}}sObject")
        if not nid or sobject is None:
            raise malformed("a Notification lacks its Id or sObject")
        object_type = sobject.get(f"{{{XSI_NS}}}type", "").split(":")[-1]
        fields = {_local(child.tag): (child.text if child.text is not None else None) for child in sobject}
        record_id = (fields.get("Id") or "").strip()
        if not object_type or not record_id:
            raise malformed(f"Notification {nid[:18]} has no sObject type or Id")
        items.append(Notification(nid, object_type, record_id, fields))
    if not items:
        raise malformed("notifications holds no Notification")
    action = (notifications.findtext(f"{{{OM_NS}}}ActionId") or "").strip()
    return OutboundMessage(org, action, items)


def check_organization(message: OutboundMessage, expected: str) -> None:
    """Refuse (401) a message from another org. Ids compare on their 15-character case-sensitive form."""
    given = message.organization_id[:15].encode()
    if not expected or not hmac.compare_digest(given, expected.strip()[:15].encode()):
        raise Rejected(401, "wrong-organization", "OrganizationId is not the configured org")
