"""The status view of onboardings, built from the store alone (no API calls).

Used by ``onboard-sync status`` (table and ``--json``) and the demo: per onboarding the
deal, account, segment, phase, day N of M, health, open and overdue tasks and next step.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from onboard_sync.onboarding.state import OnboardingState
from onboard_sync.records import TaskStatus
from onboard_sync.rules import Playbook
from onboard_sync.store import OwnedTask, Store, TaskState


@dataclass(frozen=True)
class OnboardingView:
    """One row of ``onboard-sync status``."""

    id: str
    source: str
    deal_id: str
    deal: str
    account: str
    segment: str
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


def _segment_days(playbook: Playbook, segment: str) -> int:
    for seg in playbook.segments:
        if seg.key == segment:
            return int(seg.duration_days)
    return 0


def _phase_label(playbook: Playbook, phase: str) -> str:
    for p in playbook.phases:
        if p.key == phase:
            return p.label
    return phase


def build_view(
    state: OnboardingState,
    tasks: list[OwnedTask],
    deal_name: str,
    account_name: str,
    playbook: Playbook,
    now: datetime,
) -> OnboardingView:
    created = [t for t in tasks if t.state is TaskState.CREATED or t.state is TaskState.PENDING]
    skipped = sorted((t for t in tasks if t.state is TaskState.SKIPPED), key=lambda t: t.key)
    open_tasks = sorted((t for t in created if t.status is TaskStatus.OPEN), key=lambda t: (t.due_at or now, t.key))
    overdue = [t for t in open_tasks if t.due_at and t.due_at < now]
    next_task = open_tasks[0] if open_tasks else None
    return OnboardingView(
        id=state.id,
        source=state.source,
        deal_id=state.deal_id,
        deal=deal_name,
        account=account_name,
        segment=state.segment,
        phase=state.phase,
        phase_label=_phase_label(playbook, state.phase),
        status=state.status.value,
        day=max(0, (now - state.started_at).days) + 1,
        planned_days=_segment_days(playbook, state.segment) + state.plan_shift_days,
        health_score=state.health_score,
        health_status=state.health_status,
        health_reasons=state.health_reasons,
        open_tasks=len(open_tasks),
        overdue_tasks=len(overdue),
        completed_tasks=sum(1 for t in created if t.status is TaskStatus.COMPLETED),
        next_step=next_task.subject if next_task else None,
        next_due=next_task.due_at.date().isoformat() if next_task and next_task.due_at else None,
        manual_phase=state.manual_phase,
        adopted_at=state.adopted_at.isoformat() if state.adopted_at else None,
        plan_shift_days=state.plan_shift_days,
        skipped_tasks=tuple({"key": t.key, "subject": t.subject, "reason": t.note or ""} for t in skipped),
    )


def onboarding_views(
    store: Store, playbook: Playbook, now: datetime, source: str | None = None
) -> list[OnboardingView]:
    """Every onboarding in the store, newest first."""
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
        for state in group:
            deal = deals.get(state.deal_id)
            account = accounts.get(state.account_id) if state.account_id else None
            views.append(
                build_view(
                    state,
                    tasks_by_onboarding.get(state.id, []),
                    deal.name if deal else state.deal_id,
                    account.name if account else (state.account_id or "-"),
                    playbook,
                    now,
                )
            )
    views.sort(key=lambda v: (v.status != "active", -v.day, v.id))
    return views
