"""Canonical records: what every connector reads into and what the engine reasons about.

Connectors turn vendor objects into these frozen, typed records; the engine, the
onboarding state machine and the store never see a vendor payload. Every record
carries ``source`` (the connector *instance* name from config.toml), ``id`` (the id in
that source) and ``updated_at`` (the source's own modification time, UTC).
``properties`` keeps the raw string values of the extra CRM properties the mappings
asked for, so mappings can read fields the canonical model does not name.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime

PropertyValues = Mapping[str, str | None]


class TaskStatus(enum.StrEnum):
    """Where a task stands; vendors' finer states map onto OPEN and COMPLETED.

    DELETED is onboard-sync's own: a person deleted an owned task in the CRM (``sync.deletions``).
    It no longer blocks its phase and is never created again.
    """

    OPEN = "open"
    COMPLETED = "completed"
    DELETED = "deleted"


class ObjectKind(enum.StrEnum):
    """The CRM objects onboard-sync reads or writes fields on."""

    DEAL = "deal"
    ACCOUNT = "account"
    CONTACT = "contact"
    TASK = "task"
    TICKET = "ticket"


@dataclass(frozen=True, slots=True)
class Owner:
    """A CRM user who can own records and tasks."""

    source: str
    id: str
    email: str | None
    name: str
    active: bool = True


@dataclass(frozen=True, slots=True)
class Account:
    """A customer organisation (HubSpot company, Salesforce Account, Zendesk organization)."""

    source: str
    id: str
    updated_at: datetime
    name: str
    domain: str | None = None
    owner_id: str | None = None
    properties: PropertyValues = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Contact:
    """A person at a customer."""

    source: str
    id: str
    updated_at: datetime
    email: str | None
    name: str
    account_ids: tuple[str, ...] = ()
    properties: PropertyValues = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Deal:
    """A sales opportunity. A won deal starts an onboarding."""

    source: str
    id: str
    updated_at: datetime
    name: str
    stage: str
    is_won: bool
    is_closed: bool
    amount: float | None = None
    close_date: datetime | None = None
    owner_id: str | None = None
    pipeline: str | None = None
    account_ids: tuple[str, ...] = ()
    contact_ids: tuple[str, ...] = ()
    properties: PropertyValues = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Task:
    """A CRM task. ``key`` is onboard-sync's idempotency key when onboard-sync owns the task."""

    source: str
    id: str
    updated_at: datetime
    subject: str
    status: TaskStatus
    key: str | None = None
    due_at: datetime | None = None
    owner_id: str | None = None
    completed_at: datetime | None = None
    deal_id: str | None = None
    account_id: str | None = None
    due_date: date | None = None
    """The due day, from CRMs whose task due date is a day (Salesforce ``ActivityDate``): the engine
    reads it as that day at the configured local due time (``due_at`` then holds midnight UTC)."""


@dataclass(frozen=True, slots=True)
class Ticket:
    """A helpdesk ticket or CRM ticket/case, linked to an account when the link is known."""

    source: str
    id: str
    updated_at: datetime
    subject: str
    status: str
    priority: str | None
    created_at: datetime
    account_id: str | None = None
    solved_at: datetime | None = None
    properties: PropertyValues = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Signal:
    """A named metric about an account at a time (weekly active users, NPS, attendance …)."""

    source: str
    account_id: str
    name: str
    value: float
    at: datetime
