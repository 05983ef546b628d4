"""The onboarding's data: its stored state, the facts it is judged on, and what evaluation returns.

These are plain frozen dataclasses shared by the pure state machine
(``onboarding.machine.evaluate``), the store (which persists ``OnboardingState``) and the
sync engine (which turns an ``Evaluation`` into CRM writes). Nothing here does I/O.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from onboard_sync.onboarding.calendar import UTC_CALENDAR, Calendar
from onboard_sync.records import Account, Contact, Deal, ObjectKind, Signal, TaskStatus, Ticket


class OnboardingStatus(enum.StrEnum):
    """Where an onboarding stands overall (the phase says where it is in the playbook)."""

    ACTIVE = "active"
    AT_RISK = "at-risk"
    EXTENDED = "extended"
    COMPLETED = "completed"
    CANCELLED = "cancelled"


OPEN_STATUSES = (OnboardingStatus.ACTIVE, OnboardingStatus.AT_RISK, OnboardingStatus.EXTENDED)
"""The statuses of an onboarding still under way (evaluated every run)."""


class TransitionCause(enum.StrEnum):
    """Why a phase or status changed."""

    STARTED = "started"  # a won deal started the onboarding
    TASKS_COMPLETED = "tasks-completed"  # the phase's required tasks were completed
    MANUAL = "manual"  # a person set the phase field in the CRM by hand
    DEAL_LOST = "deal-lost"  # the deal was reopened or lost
    DEAL_REWON = "deal-rewon"  # a cancelled onboarding's deal was won again
    DEAL_DELETED = "deal-deleted"  # the CRM no longer has the deal (sync.deletions)
    ADOPTED = "adopted"  # first seen after its start: joined at the phase the plan says (onboarding.catchup)
    RULE = "rule"  # a playbook rule (decision point, health) moved it


@dataclass(frozen=True, slots=True)
class PhaseVisit:
    """One stay in a phase, for timelines and reports."""

    phase: str
    entered_at: datetime
    cause: TransitionCause
    left_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class OnboardingState:
    """What onboard-sync remembers about one onboarding between runs.

    ``id`` is ``"{connector instance}:{deal id}"``: one onboarding per won deal.
    ``manual_phase`` holds the phase a person set in the CRM by hand (the machine follows it
    and does not fight it); ``None`` when the phase was set by the machine.
    """

    id: str
    source: str
    deal_id: str
    account_id: str | None
    segment: str
    phase: str
    status: OnboardingStatus
    started_at: datetime
    phase_entered_at: datetime
    go_live_at: datetime | None = None
    first_value_at: datetime | None = None
    completed_at: datetime | None = None
    cancelled_at: datetime | None = None
    manual_phase: str | None = None
    health_score: int | None = None
    health_status: str | None = None
    health_reasons: tuple[str, ...] = ()
    history: tuple[PhaseVisit, ...] = ()
    playbook: str = "default"
    adopted_at: datetime | None = None
    """When onboard-sync began following an onboarding already under way (``None``: from its start)."""
    plan_shift_days: int = 0
    """Days the plan moved because the current phase began later than planned (start-anchored due
    dates, the planned length and ``plan_day`` move with it); 0 under catch-up policy "replay"."""


def onboarding_day(state: OnboardingState, now: datetime, calendar: Calendar = UTC_CALENDAR) -> int:
    """The onboarding's day as people read "day N of M": whole local days since its start (0 on the
    start date, as the playbook counts), stopped at completion or cancellation. The CRM's ``day``
    field (``onboarding.fields``), ``status`` and the report all show this number."""
    return calendar.elapsed_days(state.started_at, state.completed_at or state.cancelled_at or now)


@dataclass(frozen=True, slots=True)
class TaskFact:
    """A task this onboarding owns, as last seen (in the store, refreshed from the CRM)."""

    key: str
    template_key: str
    status: TaskStatus
    due_at: datetime | None = None
    completed_at: datetime | None = None
    remote_id: str | None = None
    created_at: datetime | None = None  # when the task was created (blocker age); due_at stands in if None


@dataclass(frozen=True, slots=True)
class CustomerFacts:
    """Everything evaluation may look at for one onboarding; gathered by the engine.

    ``tasks`` maps a task *key* to what is known of it. ``crm_phase`` is the value of the
    onboarding phase field on the deal as read from the CRM, ``written_phase`` the value
    onboard-sync last wrote there: when they differ, a person changed it by hand.
    """

    deal: Deal
    account: Account | None = None
    contacts: tuple[Contact, ...] = ()
    tasks: Mapping[str, TaskFact] = field(default_factory=dict)
    crm_phase: str | None = None
    written_phase: str | None = None
    tickets: tuple[Ticket, ...] = ()
    signals: tuple[Signal, ...] = ()


@dataclass(frozen=True, slots=True)
class TaskSpec:
    """A task the playbook wants to exist. ``key`` is deterministic:
    ``"{onboarding id}:{template key}:{episode}"``. ``owner_role`` is resolved to a CRM owner
    by the engine (``resolve_owner`` hook), so evaluation stays pure."""

    key: str
    template_key: str
    phase: str
    title: str
    body: str
    owner_role: str
    due_at: datetime
    priority: str = "MEDIUM"
    required: bool = True
    episode: int = 0
    note: str = ""
    """Why the due date is not the plan's (a task created after its planned due date), for people."""


@dataclass(frozen=True, slots=True)
class SkippedTask:
    """A task the plan had but onboard-sync will not create, and why (recorded, shown in ``status``)."""

    spec: TaskSpec
    reason: str


@dataclass(frozen=True, slots=True)
class Transition:
    """A phase or status change that evaluation decided."""

    onboarding_id: str
    old_phase: str | None
    new_phase: str
    old_status: OnboardingStatus | None
    new_status: OnboardingStatus
    cause: TransitionCause
    at: datetime
    detail: str = ""


@dataclass(frozen=True, slots=True)
class Evaluation:
    """The result of evaluating one onboarding: the new state and what the CRM should show.

    ``tasks`` lists every task that should exist by now (the engine creates those it has no
    record of, and never deletes). ``fields`` holds canonical onboarding field values per
    object kind (``phase``, ``health_score`` …); mappings turn them into CRM properties.
    ``state`` is ``None`` when the deal is not (and never was) an onboarding. ``warnings``
    are things evaluation ignored but a person should hear about (an unknown value in the
    CRM phase field, a segment the playbook no longer has); the engine reports them.
    """

    state: OnboardingState | None
    tasks: tuple[TaskSpec, ...] = ()
    fields: Mapping[ObjectKind, Mapping[str, str | None]] = field(default_factory=dict)
    transitions: tuple[Transition, ...] = ()
    warnings: tuple[str, ...] = ()
    alerts: tuple[str, ...] = ()
    """Keys of the playbook's alert rules whose condition holds (``sync.alerts`` tracks episodes)."""
    health: Any = None
    """The ``onboarding.health.HealthReport`` behind the health fields (components for explanations)."""
    skipped: tuple[SkippedTask, ...] = ()
    """Tasks of the plan not created, with the reason: the phases that ended before onboard-sync adopted
    the onboarding, and repeated tasks missed while it was not running. Recorded once by the engine."""
