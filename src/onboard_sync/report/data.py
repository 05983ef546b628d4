"""The numbers of the onboarding report, read from the store (pure reads, no CRM calls).

:func:`collect` is called by ``onboard-sync report`` and the tests. It reads the store once
(onboardings, the tasks they own, the tickets of their accounts from every ticket source)
and hands the pieces to :mod:`onboard_sync.report.progress` (funnel, time to first value,
phase durations, health over time, at risk) and :mod:`onboard_sync.report.metrics` (tasks by
status and the success metrics). docs/report.md defines every figure.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime

from onboard_sync.onboarding.calendar import UTC_CALENDAR, Calendar
from onboard_sync.onboarding.state import OnboardingState
from onboard_sync.records import Ticket
from onboard_sync.report import metrics, progress
from onboard_sync.report.model import ReportData
from onboard_sync.rules import Playbook
from onboard_sync.store import OwnedTask, Store, TaskState


@dataclass(frozen=True)
class StoreView:
    """The onboardings of one playbook and their tasks and tickets, read from the store once."""

    states: list[OnboardingState]
    tasks: dict[str, list[OwnedTask]]
    """Onboarding id -> its tasks that exist in the CRM (created there)."""
    tickets: dict[str, list[Ticket]]
    """Onboarding id -> the tickets of its account, from every ticket source."""

    skipped: int = 0
    """Tasks recorded as skipped (phases that ended before adoption): never in the CRM."""

    @classmethod
    def read(cls, store: Store, playbook: Playbook) -> StoreView:
        states = [s for s in store.onboardings() if s.playbook == playbook.name] or store.onboardings()
        tasks: dict[str, list[OwnedTask]] = {s.id: [] for s in states}
        skipped = 0
        for task in store.owned_tasks_of(list(tasks)).values():
            if task.state is TaskState.CREATED:  # a pending or failed intent never reached the CRM
                tasks[task.onboarding_id].append(task)
            skipped += task.state is TaskState.SKIPPED
        return cls(states, tasks, _tickets(store, states), skipped)


def _tickets(store: Store, states: list[OnboardingState]) -> dict[str, list[Ticket]]:
    """Each onboarding's tickets: the CRM's own (by account id) and those of each helpdesk
    organization linked to its account (the links the last sync recorded)."""
    out: dict[str, list[Ticket]] = {s.id: [] for s in states}
    onboardings_of: dict[str, dict[str, list[str]]] = {}  # CRM instance -> account id -> onboarding ids
    for state in states:
        if state.account_id:
            onboardings_of.setdefault(state.source, {}).setdefault(state.account_id, []).append(state.id)
    for crm, by_account in onboardings_of.items():
        account_of: dict[str, dict[str, str]] = {crm: {a: a for a in by_account}}  # source -> its id -> account
        for link in store.account_links(crm_source=crm):
            if link.crm_account_id in by_account:
                account_of.setdefault(link.source, {})[link.remote_id] = link.crm_account_id
        for source, accounts in account_of.items():
            for remote_id, tickets in store.tickets_for_accounts(source, list(accounts)).items():
                for onboarding in by_account[accounts[remote_id]]:
                    out[onboarding].extend(tickets)
    return out


def collect(store: Store, playbook: Playbook, now: datetime, calendar: Calendar = UTC_CALENDAR) -> ReportData:
    """Read the store and compute the report (docs/report.md defines every figure); ``calendar`` (the
    config's time zone) counts each at-risk onboarding's day as the CRM's ``day`` field does."""
    view = StoreView.read(store, playbook)
    states = view.states
    data = ReportData(
        playbook=playbook.name,
        generated_at=now,
        onboardings=len(states),
        by_status=dict(Counter(str(s.status) for s in states)),
        health_bands=(playbook.health.healthy_min, playbook.health.at_risk_min),
    )
    progress.funnel(data, states, playbook)
    progress.first_value(data, states, playbook)
    progress.durations(data, states, playbook)
    data.health_series = progress.health_series(store, states, now)
    data.at_risk = progress.at_risk(store, states, playbook, now, calendar)
    metrics.task_figures(data, view.tasks, now)
    data.adopted = sum(1 for s in states if s.adopted_at is not None)
    data.skipped_tasks = view.skipped
    data.metrics = metrics.success_metrics(store, view.states, view.tasks, view.tickets, playbook, now)
    return data
