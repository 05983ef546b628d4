"""HubSpot tickets as a ticket source: search by modification time, company by association.

Called by :meth:`HubSpotConnector.read_tickets`. A ticket's ``status`` is ``closed`` when its
pipeline stage is one of ``closed_ticket_stages`` (HubSpot's default pipeline: stage "4",
Closed), else ``open``; ``priority`` is HubSpot's ``hs_ticket_priority`` lower-cased
(low / medium / high / urgent); ``account_id`` is the ticket's primary company.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from onboard_sync.connectors.hubspot import convert
from onboard_sync.records import Ticket

TICKET_PROPERTIES = (
    "subject",
    "hs_pipeline",
    "hs_pipeline_stage",
    "hs_ticket_priority",
    "createdate",
    "closed_date",
    "hs_lastmodifieddate",
)


def to_ticket(source: str, obj: Any, companies: Mapping[str, Sequence[str]], closed: Sequence[str]) -> Ticket:
    """One SDK ticket object as a canonical ``Ticket``."""
    props: dict[str, str | None] = dict(obj.properties or {})
    created = convert.parse_time(props.get("createdate")) or getattr(obj, "created_at", None)
    created = created or datetime.now(UTC)
    stage = props.get("hs_pipeline_stage") or ""
    account = companies.get(str(obj.id)) or ()
    return Ticket(
        source=source,
        id=str(obj.id),
        updated_at=convert.updated_at(obj, props),
        subject=props.get("subject") or "",
        status="closed" if stage in closed else "open",
        priority=(props.get("hs_ticket_priority") or "").lower() or None,
        created_at=created,
        account_id=account[0] if account else None,
        solved_at=convert.parse_time(props.get("closed_date")),
        properties={"pipeline_stage": stage},
    )


__all__ = ["TICKET_PROPERTIES", "to_ticket"]
