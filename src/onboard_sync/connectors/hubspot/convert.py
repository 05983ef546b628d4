"""HubSpot objects to canonical records, and canonical task writes to HubSpot properties.

Pure functions, called by the connector after each SDK call. HubSpot sends every property
value as a string (ISO-8601 or ms-epoch for dates); records get aware UTC datetimes.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from onboard_sync.connector import TaskWrite
from onboard_sync.records import Account, Contact, Deal, Owner, Task, TaskStatus
from onboard_sync.toolkit.times import format_time, parse_time

DEAL_PROPERTIES = (
    "dealname",
    "amount",
    "closedate",
    "pipeline",
    "dealstage",
    "hubspot_owner_id",
    "hs_lastmodifieddate",
)
COMPANY_PROPERTIES = ("name", "domain", "hubspot_owner_id", "hs_lastmodifieddate")
CONTACT_PROPERTIES = ("firstname", "lastname", "email", "lastmodifieddate", "hs_lastmodifieddate")
TASK_PROPERTIES = (
    "hs_task_subject",
    "hs_task_status",
    "hs_timestamp",
    "hubspot_owner_id",
    "hs_task_completion_date",
    "hs_task_priority",
    "hs_lastmodifieddate",
)

PRIMARY_DEAL_COMPANY = 5
"""Association type id of a deal's primary company (HUBSPOT_DEFINED)."""
TASK_TO_DEAL, TASK_TO_COMPANY, TASK_TO_CONTACT = 216, 192, 204
"""Association type ids used inline when creating tasks."""

TASK_STATUS = {TaskStatus.OPEN: "NOT_STARTED", TaskStatus.COMPLETED: "COMPLETED"}


def _props(obj: Any) -> dict[str, str | None]:
    return dict(getattr(obj, "properties", None) or {})


def updated_at(obj: Any, props: Mapping[str, str | None]) -> datetime:
    """The modification time: ``hs_lastmodifieddate`` (what search filters on) or ``updatedAt``."""
    for value in (props.get("hs_lastmodifieddate"), props.get("lastmodifieddate"), obj.updated_at):
        parsed = parse_time(value)
        if parsed is not None:
            return parsed
    return datetime.fromtimestamp(0, tz=UTC)


def _extras(props: Mapping[str, str | None], names: Iterable[str]) -> dict[str, str | None]:
    return {name: props.get(name) for name in names}


def _amount(value: str | None) -> float | None:
    try:
        return float(value) if value not in (None, "") else None
    except ValueError:
        return None


def to_deal(
    source: str,
    obj: Any,
    *,
    won: Sequence[str],
    lost: Sequence[str],
    account_ids: Sequence[str] = (),
    contact_ids: Sequence[str] = (),
    extra: Iterable[str] = (),
) -> Deal:
    """A HubSpot deal (with its associated company and contact ids) as a ``Deal``."""
    props = _props(obj)
    stage = props.get("dealstage") or ""
    is_won = stage in won
    return Deal(
        source=source,
        id=str(obj.id),
        updated_at=updated_at(obj, props),
        name=props.get("dealname") or "",
        stage=stage,
        is_won=is_won,
        is_closed=is_won or stage in lost,
        amount=_amount(props.get("amount")),
        close_date=parse_time(props.get("closedate")),
        owner_id=props.get("hubspot_owner_id") or None,
        pipeline=props.get("pipeline") or None,
        account_ids=tuple(account_ids),
        contact_ids=tuple(contact_ids),
        properties=_extras(props, extra),
    )


def to_account(source: str, obj: Any, extra: Iterable[str] = ()) -> Account:
    """A HubSpot company as an ``Account``."""
    props = _props(obj)
    return Account(
        source=source,
        id=str(obj.id),
        updated_at=updated_at(obj, props),
        name=props.get("name") or "",
        domain=props.get("domain") or None,
        owner_id=props.get("hubspot_owner_id") or None,
        properties=_extras(props, extra),
    )


def to_contact(source: str, obj: Any, extra: Iterable[str] = ()) -> Contact:
    """A HubSpot contact as a ``Contact`` (account links are not read here)."""
    props = _props(obj)
    name = " ".join(p for p in (props.get("firstname"), props.get("lastname")) if p)
    return Contact(
        source=source,
        id=str(obj.id),
        updated_at=updated_at(obj, props),
        email=props.get("email") or None,
        name=name or props.get("email") or "",
        properties=_extras(props, extra),
    )


def to_owner(source: str, obj: Any) -> Owner:
    """A HubSpot owner as an ``Owner`` named "First Last"."""
    name = " ".join(p for p in (obj.first_name, obj.last_name) if p)
    return Owner(
        source=source,
        id=str(obj.id),
        email=obj.email or None,
        name=name or obj.email or str(obj.id),
        active=not obj.archived,
    )


def to_task(source: str, obj: Any, key_property: str) -> Task:
    """A HubSpot task as a ``Task``; ``key`` is onboard-sync's key property (None if absent)."""
    props = _props(obj)
    status = TaskStatus.COMPLETED if props.get("hs_task_status") == "COMPLETED" else TaskStatus.OPEN
    return Task(
        source=source,
        id=str(obj.id),
        updated_at=updated_at(obj, props),
        subject=props.get("hs_task_subject") or "",
        status=status,
        key=props.get(key_property) or None,
        due_at=parse_time(props.get("hs_timestamp")),
        owner_id=props.get("hubspot_owner_id") or None,
        completed_at=parse_time(props.get("hs_task_completion_date")),
    )


def task_properties(write: TaskWrite, key_property: str) -> dict[str, str]:
    """The properties of a task to create."""
    props = {
        key_property: write.key,
        "hs_task_subject": write.subject,
        "hs_task_body": write.body,
        "hs_timestamp": format_time(write.due_at),
        "hs_task_status": TASK_STATUS[write.status],
        "hs_task_priority": write.priority,
        "hs_task_type": "TODO",
    }
    if write.owner_id:
        props["hubspot_owner_id"] = write.owner_id
    return props


def task_associations(write: TaskWrite) -> list[dict[str, Any]]:
    """Inline associations of a task to create: its deal, company and contacts."""
    targets = [(write.deal_id, TASK_TO_DEAL), (write.account_id, TASK_TO_COMPANY)]
    targets += [(contact, TASK_TO_CONTACT) for contact in write.contact_ids]
    return [
        {"to": {"id": str(to)}, "types": [{"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": t}]}
        for to, t in targets
        if to
    ]


def patch_properties(changes: Mapping[str, object]) -> dict[str, str]:
    """The HubSpot properties for a ``TaskPatch.changes`` mapping (only the changed fields)."""
    names = {
        "subject": "hs_task_subject",
        "body": "hs_task_body",
        "due_at": "hs_timestamp",
        "owner_id": "hubspot_owner_id",
        "status": "hs_task_status",
        "priority": "hs_task_priority",
    }
    props: dict[str, str] = {}
    for field, value in changes.items():
        if field not in names:
            raise ValueError(f"unknown task field {field!r} (expected one of {', '.join(names)})")
        if field == "status":
            props[names[field]] = TASK_STATUS[TaskStatus(value)]
        elif isinstance(value, datetime):
            props[names[field]] = format_time(value)
        else:
            props[names[field]] = "" if value is None else str(value)  # "" clears a HubSpot value
    return props
