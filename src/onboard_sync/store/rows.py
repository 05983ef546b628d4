"""Row types the state store hands out that are not canonical records or onboarding state.

``OwnedTask`` is one entry of the idempotency ledger (task key -> CRM id, see DESIGN §7),
``AuditEntry`` one applied write, ``RunRecord`` one sync/plan run, ``InboxEvent`` one
persisted webhook event. All are frozen dataclasses; datetimes are aware UTC.
Used by ``onboard_sync.store.Store`` and by the sync engine and webhook worker that call it.
``owned_task`` and ``owner`` build them from a table row (any object with the columns as
attributes: SQLAlchemy's rows, and ``sqlite_reader``'s).
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from onboard_sync.records import Account, Contact, Deal, ObjectKind, Owner, TaskStatus

FACT_KINDS: dict[type, str] = {Deal: "deal", Account: "account", Contact: "contact"}
"""The ``kind`` column of the ``facts`` table for each cached record type."""


class TaskState(enum.StrEnum):
    """Where a write of an owned task stands in the ledger.

    ``PENDING``: the intent is recorded, the outcome of the CRM create is unknown until
    confirmed (a crash between create and record leaves this; resolve it by looking the key
    up in the CRM before creating again). ``CREATED``: the CRM returned ``remote_id``.
    ``FAILED``: the CRM refused it (``error``); the engine retries it on the next run.
    ``SKIPPED``: never created, on purpose (``note`` says why: its phase ended before onboard-sync
    adopted the onboarding, or a repeated task was missed while it was not running).
    """

    PENDING = "pending"
    CREATED = "created"
    FAILED = "failed"
    SKIPPED = "skipped"


@dataclass(frozen=True, slots=True)
class OwnedTask:
    """A CRM task onboard-sync owns, keyed by its deterministic idempotency key.

    ``key`` is ``"{onboarding id}:{template key}:{episode}"``. ``updated_at`` is set by the
    store whenever the row changes (the value passed in is ignored).
    """

    key: str
    onboarding_id: str
    source: str
    template_key: str
    phase: str
    episode: int = 0
    state: TaskState = TaskState.PENDING
    remote_id: str | None = None
    status: TaskStatus = TaskStatus.OPEN
    subject: str = ""
    owner_id: str | None = None
    due_at: datetime | None = None
    completed_at: datetime | None = None
    error: str | None = None
    updated_at: datetime | None = None
    note: str | None = None
    """For people: why a task was skipped, or why its due date is not the plan's."""


@dataclass(frozen=True, slots=True)
class AuditEntry:
    """One applied (or attempted) write: who/what/when/before/after.

    ``action`` is e.g. ``"create_task"`` or ``"update_fields"``; ``outcome`` e.g. ``"ok"``,
    ``"failed"``, ``"skipped"``. ``before``/``after`` must be JSON-serialisable; datetimes
    and enums in them are stored as strings. ``id`` is assigned by the store.
    """

    run_id: int | None
    at: datetime
    source: str
    action: str
    object_kind: ObjectKind | str
    remote_id: str | None
    key: str | None
    before: Mapping[str, Any] | None
    after: Mapping[str, Any] | None
    outcome: str
    detail: str = ""
    id: int | None = None


@dataclass(frozen=True, slots=True)
class RunRecord:
    """One run of ``sync`` (or another command that records runs).

    ``ok`` is ``None`` while the run is unfinished (or was killed).
    """

    id: int
    kind: str
    started_at: datetime
    finished_at: datetime | None = None
    ok: bool | None = None
    report: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class InboxEvent:
    """A verified webhook event persisted before acknowledging it (DESIGN §9)."""

    id: int
    source: str
    event_id: str
    received_at: datetime
    payload: bytes
    processed_at: datetime | None = None


_TASK_STATES = {state.value: state for state in TaskState}
_TASK_STATUSES = {status.value: status for status in TaskStatus}
"""The members by value: a dictionary look-up is ~8× faster than calling the enum, and ``status`` reads
~3,000 of them (tasks of 80 onboardings); a value not there still goes to the enum, which refuses it."""


def owned_task(r: Any) -> OwnedTask:
    """The ``owned_tasks`` row ``r`` as an ``OwnedTask`` (datetimes already aware UTC)."""
    return OwnedTask(
        key=r.key,
        onboarding_id=r.onboarding_id,
        source=r.source,
        template_key=r.template_key,
        phase=r.phase,
        episode=r.episode,
        state=_TASK_STATES.get(r.state) or TaskState(r.state),
        remote_id=r.remote_id,
        status=_TASK_STATUSES.get(r.status) or TaskStatus(r.status),
        subject=r.subject,
        owner_id=r.owner_id,
        due_at=r.due_at,
        completed_at=r.completed_at,
        error=r.error,
        updated_at=r.updated_at,
        note=r.note,
    )


def owner(r: Any) -> Owner:
    """The ``owners`` row ``r`` as an ``Owner``."""
    return Owner(source=r.source, id=r.id, email=r.email, name=r.name, active=bool(r.active))
