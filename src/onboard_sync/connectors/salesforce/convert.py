"""Salesforce records (query JSON) to canonical records, and canonical writes to Salesforce fields.

Pure functions, called by the connector after each query. Salesforce renders datetimes as
``2026-01-05T09:30:00.000+0000`` and dates as ``2026-01-05``; records get aware UTC datetimes and
property values as strings (numbers without a trailing ``.0``), as the engine compares them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, date, datetime
from typing import Any
from urllib.parse import urlparse

from onboard_sync.connector import TaskWrite
from onboard_sync.records import Account, Contact, Deal, Owner, Task, TaskStatus
from onboard_sync.toolkit.times import parse_time, to_utc

DEAL_FIELDS = (
    "Id",
    "Name",
    "StageName",
    "IsWon",
    "IsClosed",
    "CloseDate",
    "Amount",
    "AccountId",
    "OwnerId",
    "SystemModstamp",
)
ROLES = "OpportunityContactRoles"
"""The Opportunity's child relationship to its OpportunityContactRole rows."""
ROLES_SUBQUERY = f"(SELECT ContactId, IsPrimary FROM {ROLES})"
ACCOUNT_FIELDS = ("Id", "Name", "Website", "OwnerId", "SystemModstamp")
CONTACT_FIELDS = ("Id", "FirstName", "LastName", "Email", "AccountId", "SystemModstamp")
OWNER_FIELDS = ("Id", "Name", "Email", "IsActive")
TASK_FIELDS = (
    "Id",
    "Subject",
    "Status",
    "IsClosed",
    "ActivityDate",
    "OwnerId",
    "WhatId",
    "AccountId",
    "CompletedDateTime",
    "SystemModstamp",
)
TASK_STATUS = {TaskStatus.OPEN: "Not Started", TaskStatus.COMPLETED: "Completed"}
PRIORITY = {"HIGH": "High", "MEDIUM": "Normal", "NORMAL": "Normal", "LOW": "Low"}
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def soql_time(value: datetime) -> str:
    """A datetime literal for SOQL (unquoted, UTC)."""
    return to_utc(value).strftime("%Y-%m-%dT%H:%M:%SZ")


def as_text(value: Any) -> str | None:
    """A field value as the string the engine compares (72.0 -> "72", True -> "true")."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else str(value)
    return str(value)


def _extras(rec: Mapping[str, Any], names: Iterable[str]) -> dict[str, str | None]:
    return {name: as_text(rec.get(name)) for name in names}


def updated_at(rec: Mapping[str, Any]) -> datetime:
    return parse_time(rec.get("SystemModstamp")) or EPOCH


def to_deal(source: str, rec: Mapping[str, Any], contact_ids: Sequence[str], extra: Iterable[str]) -> Deal:
    amount = rec.get("Amount")
    return Deal(
        source=source,
        id=str(rec["Id"]),
        updated_at=updated_at(rec),
        name=str(rec.get("Name") or ""),
        stage=str(rec.get("StageName") or ""),
        is_won=bool(rec.get("IsWon")),
        is_closed=bool(rec.get("IsClosed")),
        amount=float(amount) if amount is not None else None,
        close_date=parse_time(rec.get("CloseDate")),
        owner_id=rec.get("OwnerId") or None,
        account_ids=(str(rec["AccountId"]),) if rec.get("AccountId") else (),
        contact_ids=tuple(contact_ids),
        properties=_extras(rec, extra),
    )


def to_account(source: str, rec: Mapping[str, Any], extra: Iterable[str]) -> Account:
    website = rec.get("Website") or ""
    host = urlparse(website if "//" in website else f"//{website}").hostname if website else None
    return Account(
        source=source,
        id=str(rec["Id"]),
        updated_at=updated_at(rec),
        name=str(rec.get("Name") or ""),
        domain=host.removeprefix("www.") if host else None,
        owner_id=rec.get("OwnerId") or None,
        properties=_extras(rec, extra),
    )


def to_contact(source: str, rec: Mapping[str, Any], extra: Iterable[str]) -> Contact:
    name = " ".join(p for p in (rec.get("FirstName"), rec.get("LastName")) if p)
    return Contact(
        source=source,
        id=str(rec["Id"]),
        updated_at=updated_at(rec),
        email=rec.get("Email") or None,
        name=name,
        account_ids=(str(rec["AccountId"]),) if rec.get("AccountId") else (),
        properties=_extras(rec, extra),
    )


def to_owner(source: str, rec: Mapping[str, Any]) -> Owner:
    return Owner(
        source=source,
        id=str(rec["Id"]),
        email=rec.get("Email") or None,
        name=str(rec.get("Name") or ""),
        active=bool(rec.get("IsActive", True)),
    )


def to_task(source: str, rec: Mapping[str, Any], key_field: str) -> Task:
    what = rec.get("WhatId") or ""
    return Task(
        source=source,
        id=str(rec["Id"]),
        updated_at=updated_at(rec),
        subject=str(rec.get("Subject") or ""),
        status=TaskStatus.COMPLETED if rec.get("IsClosed") else TaskStatus.OPEN,
        key=rec.get(key_field) or None,
        due_at=parse_time(rec.get("ActivityDate")),
        owner_id=rec.get("OwnerId") or None,
        completed_at=parse_time(rec.get("CompletedDateTime")),
        deal_id=str(what) if str(what).startswith("006") else None,
        account_id=rec.get("AccountId") or None,
        due_date=date.fromisoformat(str(rec["ActivityDate"])[:10]) if rec.get("ActivityDate") else None,
    )


def task_fields(write: TaskWrite, key_field: str, what: str) -> dict[str, Any]:
    """The Task fields of a task to create (``what``: "opportunity" or "account")."""
    due = write.due_at if write.due_at.tzinfo else write.due_at.replace(tzinfo=UTC)
    fields: dict[str, Any] = {
        "attributes": {"type": "Task"},
        key_field: write.key,
        "Subject": write.subject[:255],
        "Description": write.body,
        "ActivityDate": (write.due_date or due.astimezone(UTC).date()).isoformat(),  # the people's day
        "Status": TASK_STATUS[write.status],
        "Priority": PRIORITY.get(write.priority.upper(), "Normal"),
    }
    what_id = write.deal_id if what == "opportunity" else (write.account_id or write.deal_id)
    if what_id:
        fields["WhatId"] = what_id
    if write.contact_ids:
        fields["WhoId"] = write.contact_ids[0]
    if write.owner_id:
        fields["OwnerId"] = write.owner_id
    return fields


def patch_fields(changes: Mapping[str, object]) -> dict[str, Any]:
    """Task fields for a ``TaskPatch.changes`` mapping (only the changed fields)."""
    out: dict[str, Any] = {}
    for name, value in changes.items():
        if name == "subject":
            out["Subject"] = value
        elif name == "body":
            out["Description"] = value
        elif name == "due_at":
            out["ActivityDate"] = value.astimezone(UTC).date().isoformat() if isinstance(value, datetime) else None
        elif name == "owner_id":
            out["OwnerId"] = value
        elif name == "status":
            out["Status"] = TASK_STATUS[TaskStatus(value)]
        elif name == "priority":
            out["Priority"] = PRIORITY.get(str(value).upper(), "Normal")
        else:
            raise ValueError(f"unknown task field {name!r}")
    return out
