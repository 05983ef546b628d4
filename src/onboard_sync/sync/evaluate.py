"""One chunk's evaluations: the facts of each deal (tasks, tickets, plugin signals) through the playbook.

Called by the engine once per chunk of a run (``sync.speculation``). Everything it reads was
loaded for the chunk by id (states, owned tasks, written fields, records, and the tickets of
the chunk's accounts in ``sync.tickets.TicketIndex``); the alert tracker, loaded with the
chunk's episodes, adds the task of each active alert episode after settling (``with_alerts``:
a separate step, so that a chunk may be settled ahead, while the task pull still runs, and its
episodes applied once the facts are final).
"""

from __future__ import annotations

import dataclasses
from collections import defaultdict
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from onboard_sync.mappings import MappingSet
from onboard_sync.onboarding.calendar import UTC_CALENDAR, Calendar
from onboard_sync.onboarding.catchup import CatchUp
from onboard_sync.onboarding.machine import evaluate
from onboard_sync.onboarding.state import CustomerFacts, Evaluation, OnboardingState, TaskFact
from onboard_sync.records import Account, Deal, ObjectKind, TaskStatus
from onboard_sync.rules.model import Playbook
from onboard_sync.store import OwnedTask, TaskState
from onboard_sync.sync import health
from onboard_sync.sync.alerts import AlertTracker
from onboard_sync.sync.tickets import TicketIndex

WrittenFields = Mapping[str, Mapping[tuple[ObjectKind, str, str], str | None]]


@dataclasses.dataclass
class ChunkFacts:
    """What one chunk is evaluated from (all loaded by id for this chunk)."""

    deals: Mapping[str, Deal]
    tracked: Mapping[str, OnboardingState]
    accounts: Mapping[str, Account]
    owned: Mapping[str, OwnedTask]
    written: WrittenFields


Settled = tuple[Evaluation, Deal, Account | None]
"""One deal's settled evaluation (before its alert episodes are applied), with its deal and account."""


def with_alerts(settled: list[Settled], alerts: AlertTracker) -> list[tuple[Evaluation, Deal]]:
    """Each settled evaluation with the tasks of its active alert episodes (episode changes noted in
    ``alerts``, which must have ``begin``-loaded the chunk's onboardings)."""
    return [(alerts.apply(evaluation, deal, account), deal) for evaluation, deal, account in settled]


def settle_chunk(
    name: str,
    chunk: ChunkFacts,
    *,
    playbook: Playbook,
    mapping: MappingSet,
    now: datetime,
    pm: Any,
    tickets: TicketIndex,
    signal_sources: list[health.SignalSource],
    calendar: Calendar = UTC_CALENDAR,
    catch_up: CatchUp = CatchUp(),
) -> list[Settled]:
    """Evaluate and settle every deal of ``chunk`` (pure but for the plugins' hooks and signals; no
    alert episodes yet); deals without an onboarding (and needing none) are left out."""
    phase_property = mapping.phase_property()
    by_onboarding: dict[str, dict[str, OwnedTask]] = defaultdict(dict)
    for key, task in chunk.owned.items():
        by_onboarding[task.onboarding_id][key] = task
    evaluations: list[Settled] = []
    for deal in chunk.deals.values():
        onboarding_id = f"{name}:{deal.id}"
        state = chunk.tracked.get(deal.id)
        account = chunk.accounts.get(deal.account_ids[0]) if deal.account_ids else None
        facts = CustomerFacts(
            deal=deal,
            account=account,
            tasks={
                key: TaskFact(
                    key=key,
                    template_key=t.template_key,
                    status=t.status,
                    due_at=t.due_at,
                    completed_at=t.completed_at,
                    remote_id=t.remote_id,
                )
                for key, t in by_onboarding.get(onboarding_id, {}).items()
                if t.state is TaskState.CREATED
            },
            crm_phase=deal.properties.get(phase_property) if phase_property else None,
            written_phase=chunk.written.get(onboarding_id, {}).get((ObjectKind.DEAL, deal.id, phase_property or ""))
            if phase_property
            else None,
            tickets=tickets.tickets_of(account.id if account else None),
            signals=health.plugin_signals(signal_sources, deal, account, now) if signal_sources else (),
        )
        override = None
        if state is None and deal.is_won:
            override = pm.hook.resolve_segment(deal=deal, account=account)
        evaluation = evaluate(
            state,
            facts,
            playbook,
            now,
            onboarding_id=onboarding_id,
            segment_override=override,
            calendar=calendar,
            catch_up=catch_up,
        )
        settled = settle(evaluation, facts, playbook, now, onboarding_id, calendar=calendar, catch_up=catch_up)
        if settled.state is not None:
            evaluations.append((settled, deal, account))
    return evaluations


def settle(
    evaluation: Evaluation,
    facts: CustomerFacts,
    playbook: Playbook,
    now: datetime,
    onboarding_id: str,
    *,
    calendar: Calendar = UTC_CALENDAR,
    catch_up: CatchUp = CatchUp(),
) -> Evaluation:
    """Evaluate once more as if the tasks this run creates already exist (open).

    Without this, the run that creates a phase's tasks would compute health and next
    step without them, and the following run would rewrite those fields: a no-change
    rerun must write nothing.
    """
    new = [spec for spec in evaluation.tasks if spec.key not in facts.tasks]
    if not new or evaluation.state is None:
        return evaluation
    assumed = {
        spec.key: TaskFact(key=spec.key, template_key=spec.template_key, status=TaskStatus.OPEN, due_at=spec.due_at)
        for spec in new
    }
    settled = evaluate(
        evaluation.state,
        dataclasses.replace(facts, tasks={**facts.tasks, **assumed}),
        playbook,
        now,
        onboarding_id=onboarding_id,
        calendar=calendar,
        catch_up=catch_up,
    )
    # the specs as first planned (their notes say why a due date moved); the skipped ones of adoption
    first = {spec.key: spec for spec in evaluation.tasks}
    skipped = {s.spec.key: s for s in (*evaluation.skipped, *settled.skipped)}
    return dataclasses.replace(
        settled,
        tasks=tuple(first.get(spec.key, spec) for spec in settled.tasks),
        transitions=evaluation.transitions + settled.transitions,
        skipped=tuple(skipped.values()),
    )


__all__ = ["ChunkFacts", "Settled", "settle", "settle_chunk", "with_alerts"]
