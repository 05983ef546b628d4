"""Salesforce Cases as a ticket source: the SOQL that reads them and the mapping to ``Ticket``.

Called by :meth:`SalesforceConnector.read_tickets`. Pure functions. Normalised like HubSpot tickets so
the health rules treat every source alike: ``status`` is ``closed`` when Salesforce says ``IsClosed``
(whatever the org's closed statuses are called), else ``open``; ``priority`` is ``Priority`` lower-cased
(``high`` counts as urgent, as HubSpot's ``HIGH`` and Zendesk's ``high``; an org's ``Critical`` or
``Urgent`` value does too); ``account_id`` is ``AccountId``, the CRM's own Account id, so no linking is
needed; ``solved_at`` is ``ClosedDate``. The org's own ``Status`` value (``Escalated`` …), the
``CaseNumber`` and ``ContactId`` are kept in ``properties``.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from onboard_sync.connectors.salesforce.convert import as_text, parse_time, soql_time, updated_at
from onboard_sync.records import Ticket

CASE_FIELDS = (
    "Id",
    "CaseNumber",
    "Subject",
    "Status",
    "Priority",
    "IsClosed",
    "ClosedDate",
    "CreatedDate",
    "SystemModstamp",
    "AccountId",
    "ContactId",
)


def case_soql(since: datetime | None, case_filter: str | None = None) -> str:
    """Cases changed at or after ``since`` (every Case when ``None``), oldest first, ties by Id."""
    conditions = [f"SystemModstamp >= {soql_time(since)}"] if since is not None else []
    if case_filter:
        conditions.append(f"({case_filter})")
    where = f" WHERE {' AND '.join(conditions)}" if conditions else ""
    return f"SELECT {', '.join(CASE_FIELDS)} FROM Case{where} ORDER BY SystemModstamp, Id"


def to_ticket(source: str, rec: Mapping[str, Any]) -> Ticket:
    """One Case query record as a canonical ``Ticket``."""
    modified = updated_at(rec)
    return Ticket(
        source=source,
        id=str(rec["Id"]),
        updated_at=modified,
        subject=str(rec.get("Subject") or ""),
        status="closed" if rec.get("IsClosed") else "open",
        priority=(str(rec.get("Priority") or "")).strip().lower() or None,
        created_at=parse_time(rec.get("CreatedDate")) or modified,
        account_id=as_text(rec.get("AccountId")) or None,
        solved_at=parse_time(rec.get("ClosedDate")) if rec.get("IsClosed") else None,
        properties={
            "case_number": as_text(rec.get("CaseNumber")),
            "status": as_text(rec.get("Status")),
            "contact_id": as_text(rec.get("ContactId")),
        },
    )


__all__ = ["CASE_FIELDS", "case_soql", "to_ticket"]
