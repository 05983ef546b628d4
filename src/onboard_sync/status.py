"""The status view of onboardings, built from the store alone (no API calls).

Used by ``onboard-sync status`` (table and ``--json``) and the demo: per onboarding the
deal, account, owner, segment, phase, day N of M, health, open and overdue tasks and next
step, worst first (critical, at-risk, then the latest). The owner is the customer's CSM as
``sync`` assigns it (the ``resolve_owner`` hook for the ``csm`` role over the cached deal,
account and CRM owners; the deal owner when ``[owners]`` names no CSM), shown by name.
``StatusFilter`` narrows the views for ``--at-risk``, ``--owner``, ``--segment``, ``--phase``.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

from onboard_sync.errors import UserError
from onboard_sync.onboarding.calendar import UTC_CALENDAR, Calendar
from onboard_sync.onboarding.state import OPEN_STATUSES, OnboardingState, OnboardingStatus, onboarding_day
from onboard_sync.records import Account, Deal, Owner, TaskStatus
from onboard_sync.store.rows import OwnedTask, TaskState

if TYPE_CHECKING:  # either reads a store: SqliteReader without SQLAlchemy (status's table)
    from onboard_sync.store import Store
    from onboard_sync.store.sqlite_reader import SqliteReader

OWNER_ROLE = "csm"
"""The role whose owner ``status`` shows: the customer's CSM (the deal owner if none is configured)."""

HEALTH_RANK = {"critical": 0, "at-risk": 1, "healthy": 2}
"""Worst first: critical before at-risk before healthy before not yet scored."""

OwnerOf = Callable[[Deal, Account | None], str | None]


class ShownSegment(Protocol):
    """What a view reads of a segment (a ``rules.Segment`` or a ``status_settings.SegmentOutline``)."""

    @property
    def key(self) -> str: ...
    @property
    def label(self) -> str: ...
    @property
    def duration_days(self) -> int: ...


class ShownPhase(Protocol):
    """What a view reads of a phase (a ``rules.Phase`` or a ``status_settings.PhaseOutline``)."""

    @property
    def key(self) -> str: ...
    @property
    def label(self) -> str: ...


class ShownPlaybook(Protocol):
    """What ``status`` reads of a playbook: a loaded ``rules.Playbook``, or the
    ``status_settings.PlaybookOutline`` remembered of one (no playbook to load, no pydantic)."""

    @property
    def name(self) -> str: ...
    @property
    def segments(self) -> Sequence[ShownSegment]: ...
    @property
    def phases(self) -> Sequence[ShownPhase]: ...


@dataclass(frozen=True)
class OnboardingView:
    """One row of ``onboard-sync status``."""

    id: str
    source: str
    deal_id: str
    deal: str
    account: str
    owner_id: str | None
    owner: str | None
    owner_email: str | None
    segment: str
    segment_label: str
    phase: str
    phase_label: str
    status: str
    day: int
    planned_days: int
    health_score: int | None
    health_status: str | None
    health_reasons: tuple[str, ...]
    open_tasks: int
    overdue_tasks: int
    days_late: int
    completed_tasks: int
    next_step: str | None
    next_due: str | None
    manual_phase: str | None
    adopted_at: str | None = None
    """When onboard-sync began following this onboarding already under way (``None``: from its start)."""
    plan_shift_days: int = 0
    """Days the plan moved (a phase began later than planned); included in ``planned_days``."""
    skipped_tasks: tuple[dict[str, str], ...] = ()
    """Tasks of the plan never created, each with ``key``, ``subject`` and ``reason``."""

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    @property
    def open(self) -> bool:
        """Still under way (active, at-risk or extended), not completed or cancelled."""
        return self.status in OPEN_STATUSES

    @property
    def at_risk(self) -> bool:
        """Health at-risk or critical, or the onboarding itself set at-risk by its playbook."""
        health = HEALTH_RANK.get(self.health_status or "", len(HEALTH_RANK))
        return health < HEALTH_RANK["healthy"] or self.status == OnboardingStatus.AT_RISK


def worst_first(view: OnboardingView) -> tuple[Any, ...]:
    """Sort key: open onboardings first; critical, at-risk, healthy, unscored; then the most days
    late, the most overdue tasks, the longest running."""
    health = HEALTH_RANK.get(view.health_status or "", len(HEALTH_RANK))
    return (not view.open, health, -view.days_late, -view.overdue_tasks, -view.day, view.id)


def _segment_days(playbook: ShownPlaybook, segment: str) -> int:
    for seg in playbook.segments:
        if seg.key == segment:
            return int(seg.duration_days)
    return 0


def _segment_label(playbook: ShownPlaybook, segment: str) -> str:
    return next((seg.label for seg in playbook.segments if seg.key == segment), segment)


def _phase_label(playbook: ShownPlaybook, phase: str) -> str:
    for p in playbook.phases:
        if p.key == phase:
            return p.label
    return phase


def build_view(
    state: OnboardingState,
    tasks: list[OwnedTask],
    deal_name: str,
    account_name: str,
    playbook: ShownPlaybook,
    now: datetime,
    owner: Owner | str | None = None,
    calendar: Calendar = UTC_CALENDAR,
) -> OnboardingView:
    """The view of one onboarding; ``owner`` is its CSM as a stored CRM owner, or a bare id. Its day
    is the one the CRM's ``day`` field shows (local days in ``calendar``, 0 on the start date)."""
    created = [t for t in tasks if t.state is TaskState.CREATED or t.state is TaskState.PENDING]
    skipped = sorted((t for t in tasks if t.state is TaskState.SKIPPED), key=lambda t: t.key)
    open_tasks = sorted((t for t in created if t.status is TaskStatus.OPEN), key=lambda t: (t.due_at or now, t.key))
    overdue = [t for t in open_tasks if t.due_at and t.due_at < now]
    next_task = open_tasks[0] if open_tasks else None
    oldest_due = overdue[0].due_at if overdue else None
    if isinstance(owner, Owner):
        owner_id, owner_name, owner_email = owner.id, owner.name or owner.email or owner.id, owner.email
    else:
        owner_id = owner_name = owner
        owner_email = None
    return OnboardingView(
        id=state.id,
        source=state.source,
        deal_id=state.deal_id,
        deal=deal_name,
        account=account_name,
        owner_id=owner_id,
        owner=owner_name,
        owner_email=owner_email,
        segment=state.segment,
        segment_label=_segment_label(playbook, state.segment),
        phase=state.phase,
        phase_label=_phase_label(playbook, state.phase),
        status=state.status.value,
        day=onboarding_day(state, now, calendar),
        planned_days=_segment_days(playbook, state.segment) + state.plan_shift_days,
        health_score=state.health_score,
        health_status=state.health_status,
        health_reasons=state.health_reasons,
        open_tasks=len(open_tasks),
        overdue_tasks=len(overdue),
        days_late=(now - oldest_due).days if oldest_due else 0,
        completed_tasks=sum(1 for t in created if t.status is TaskStatus.COMPLETED),
        next_step=next_task.subject if next_task else None,
        next_due=next_task.due_at.date().isoformat() if next_task and next_task.due_at else None,
        manual_phase=state.manual_phase,
        adopted_at=state.adopted_at.isoformat() if state.adopted_at else None,
        plan_shift_days=state.plan_shift_days,
        skipped_tasks=tuple({"key": t.key, "subject": t.subject, "reason": t.note or ""} for t in skipped),
    )


def owner_resolver(owner_settings: Mapping[str, Any], owners: Mapping[str, Owner]) -> OwnerOf:
    """Who ``sync`` makes the CSM of a deal: the ``resolve_owner`` hook (core default: ``[owners]``
    of config.toml), over the owners ``sync`` read from the CRM and cached."""
    from onboard_sync.plugins import get_plugin_manager

    hook = get_plugin_manager().hook.resolve_owner

    def owner_of(deal: Deal, account: Account | None) -> str | None:
        return hook(role=OWNER_ROLE, deal=deal, account=account, owners=owners, settings=owner_settings)

    return owner_of


def onboarding_views(
    store: Store | SqliteReader,
    playbook: ShownPlaybook,
    now: datetime,
    source: str | None = None,
    owner_settings: Mapping[str, Any] | None = None,
    calendar: Calendar = UTC_CALENDAR,
) -> list[OnboardingView]:
    """Every onboarding in the store, worst first; with ``owner_settings`` (config.toml's
    ``[owners]``) each names its CSM."""
    states = store.onboardings(source=source)
    views: list[OnboardingView] = []
    by_source: dict[str, list[OnboardingState]] = defaultdict(list)
    for state in states:
        by_source[state.source].append(state)
    for src, group in by_source.items():
        owned = store.owned_tasks_for(src)
        tasks_by_onboarding: dict[str, list[OwnedTask]] = defaultdict(list)
        for task in owned.values():
            tasks_by_onboarding[task.onboarding_id].append(task)
        deals = store.get_deals(src, [s.deal_id for s in group])
        accounts = store.get_accounts(src, sorted({s.account_id for s in group if s.account_id}))
        owners = store.owners(src) if owner_settings is not None else {}
        owner_of = owner_resolver(owner_settings, owners) if owner_settings is not None else None
        for state in group:
            deal = deals.get(state.deal_id)
            account = accounts.get(state.account_id) if state.account_id else None
            owner_id = owner_of(deal, account) if owner_of and deal else None
            views.append(
                build_view(
                    state,
                    tasks_by_onboarding.get(state.id, []),
                    deal.name if deal else state.deal_id,
                    account.name if account else (state.account_id or "-"),
                    playbook,
                    now,
                    owner=owners.get(owner_id, owner_id) if owner_id else None,
                    calendar=calendar,
                )
            )
    views.sort(key=worst_first)
    return views


@dataclass(frozen=True)
class StatusFilter:
    """What ``status --at-risk --owner NAME --segment S --phase P`` keeps (all must hold)."""

    at_risk: bool = False
    owner: str | None = None
    segment: str | None = None
    phase: str | None = None

    def checked(self, playbook: ShownPlaybook) -> StatusFilter:
        """This filter with ``segment`` and ``phase`` as the playbook's keys (a key or a label, any
        case); a name the playbook does not have is a UserError listing the ones it has."""
        segment = _playbook_key("--segment", self.segment, {s.key: s.label for s in playbook.segments})
        phase = _playbook_key("--phase", self.phase, {p.key: p.label for p in playbook.phases})
        return StatusFilter(self.at_risk, self.owner, segment, phase)

    def __call__(self, view: OnboardingView) -> bool:
        if self.at_risk and not view.at_risk:
            return False
        if self.segment is not None and view.segment != self.segment:
            return False
        if self.phase is not None and view.phase != self.phase:
            return False
        return self.owner is None or _owner_matches(self.owner, view)

    def describe(self) -> str:
        """The active filters as the user typed them (e.g. ``--at-risk --owner grace``)."""
        parts = ["--at-risk"] if self.at_risk else []
        parts += [
            f"--{name} {value}"
            for name, value in (("owner", self.owner), ("segment", self.segment), ("phase", self.phase))
            if value
        ]
        return " ".join(parts)


def _playbook_key(option: str, value: str | None, known: dict[str, str]) -> str | None:
    if value is None:
        return None
    wanted = value.strip().casefold()
    for key, label in known.items():
        if wanted in (key.casefold(), label.casefold()):
            return key
    listed = ", ".join(f"{key} ({label})" if label != key else key for key, label in known.items())
    raise UserError(f"the playbook has no {option.removeprefix('--')} {value!r} (it has: {listed})", where=option)


def _owner_matches(wanted: str, view: OnboardingView) -> bool:
    """``--owner`` matches a part of the owner's name or e-mail, or the owner id exactly, ignoring case."""
    wanted = wanted.strip().casefold()
    named = any(wanted in (value or "").casefold() for value in (view.owner, view.owner_email))
    return named or wanted == (view.owner_id or "").casefold()
