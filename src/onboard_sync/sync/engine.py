"""The reconcile engine: one run of ``sync`` (apply) or ``plan`` (dry run) over every deal source.

For each connector instance that is a deal source, a run:

1. resolves writes whose outcome is unknown (a crash between a CRM create and its
   record) by looking their keys up in the CRM, before anything could create them again;
2. pulls what changed since the cursor (taken at run start, minus a look-back overlap):
   deals, the tasks onboard-sync owns, the accounts of changed deals, owners when stale;
3. evaluates every open onboarding and every newly won deal (pure; clock injected);
4. diffs the evaluations against the recorded tasks and the CRM's field values
   (``sync.plan.plan_writes``) and applies the writes in the connector's batch size,
   recording each batch's results (and audit) right after it returns;
5. advances the cursors only after all of that is recorded.

``run(deal_ids={"hubspot": {...}})`` reconciles only those deals (the webhook worker): they are
read by id instead of the cursor pull, their owned tasks are refreshed by key, only they are
evaluated and written, and no cursor moves.

In plan mode the store is opened read-only and the connectors' gates refuse writes:
the run reads, evaluates and reports, and changes nothing anywhere.
"""

from __future__ import annotations

import dataclasses
from collections import defaultdict
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import TypeVar

from onboard_sync.connector import Connector, Page, ReadOptions
from onboard_sync.errors import ApiError, OnboardSyncError, RateLimitExhausted, UserError
from onboard_sync.mappings import MappingSet
from onboard_sync.onboarding.machine import evaluate
from onboard_sync.onboarding.state import (
    CustomerFacts,
    Evaluation,
    OnboardingState,
    OnboardingStatus,
    TaskFact,
    Transition,
)
from onboard_sync.plugins import get_plugin_manager
from onboard_sync.records import Account, Deal, ObjectKind, Owner, Task, TaskStatus
from onboard_sync.runtime import Runtime
from onboard_sync.store import OwnedTask, Store, TaskState
from onboard_sync.sync import signals, writeback
from onboard_sync.sync.alerts import AlertTracker
from onboard_sync.sync.apply import Applier
from onboard_sync.sync.crash import crash_point
from onboard_sync.sync.plan import WritePlan, plan_writes
from onboard_sync.sync.report import InstanceReport, RunReport

T = TypeVar("T")
Progress = Callable[[str, int, int | None], None]
OWNERS_MAX_AGE = timedelta(hours=24)
OPEN_STATUSES = (OnboardingStatus.ACTIVE, OnboardingStatus.AT_RISK, OnboardingStatus.EXTENDED)


def utcnow() -> datetime:
    return datetime.now(UTC)


def onboarding_id_of_task_key(key: str) -> str:
    """Task keys are ``{onboarding id}:{template}:{episode}``; onboarding ids contain one colon."""
    return key.rsplit(":", 2)[0]


def _chunks(items: Sequence[T], size: int) -> Iterator[Sequence[T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


class Engine:
    """Runs ``sync`` or ``plan`` for every deal-source connector instance of a runtime."""

    def __init__(
        self,
        runtime: Runtime,
        store: Store,
        *,
        plan_only: bool = False,
        clock: Callable[[], datetime] = utcnow,
        progress: Progress | None = None,
        full: bool = False,
        sleep: Callable[[float], None] | None = None,
    ) -> None:
        self.runtime = runtime
        self.store = store
        self.plan_only = plan_only
        self.clock = clock
        self.progress = progress or (lambda stage, advance, total: None)
        self.full = full
        self.sleep = sleep
        self.pm = get_plugin_manager()
        self._subset: Mapping[str, Collection[str]] | None = None

    # --- the run ---------------------------------------------------------------------
    def run(
        self,
        instances: Sequence[str] | None = None,
        *,
        deal_ids: Mapping[str, Collection[str]] | None = None,
    ) -> RunReport:
        """Run every deal source (or ``instances``); with ``deal_ids`` only those deals per instance."""
        from onboard_sync.connector import Capability

        names = list(instances or self.runtime.instances_with(Capability.DEAL_SOURCE))
        self._subset = deal_ids
        if deal_ids is not None:
            names = [name for name in names if deal_ids.get(name)]
        started = self.clock()
        report = RunReport(mode="plan" if self.plan_only else "sync", started_at=started)
        run_id = None if self.plan_only else self.store.start_run(report.mode, started)
        report.run_id = run_id
        try:
            signals.pull_ticket_sources(
                self, report.ticket_sources, min_age=timedelta(minutes=1) if deal_ids is not None else timedelta(0)
            )
            for name in names:
                instance_report = InstanceReport(name=name)
                report.instances[name] = instance_report
                connector = self.runtime.connector(name, plan_mode=self.plan_only, sleep=self.sleep)
                try:
                    self._run_instance(name, connector, instance_report, run_id)
                except RateLimitExhausted as exc:
                    instance_report.error = (
                        f"stopped: API quota exhausted ({exc}); the next run resumes from the cursor"
                    )
                except UserError as exc:
                    instance_report.error = str(exc)
                    raise
                except (ApiError, OnboardSyncError) as exc:
                    instance_report.error = str(exc)
                finally:
                    instance_report.api_calls = connector.call.summary()  # type: ignore[attr-defined]
                    usage = connector.api_usage()
                    if usage:
                        instance_report.api_calls["vendor_usage"] = usage
                    connector.close()
        finally:
            report.finished_at = self.clock()
            if run_id is not None:
                self.store.finish_run(run_id, report.finished_at, report.ok, report.as_dict())
        if not self.plan_only:
            self.pm.hook.sync_finished(report=report.as_dict())
        return report

    def _run_instance(
        self, name: str, connector: Connector, report: InstanceReport, run_id: int | None
    ) -> None:
        mapping = self.runtime.mappings[name]
        options = mapping.read_options()
        run_started = self.clock()
        lookback = timedelta(minutes=self.runtime.config.core.lookback_minutes)
        deal_cursor = None if self.full else self.store.get_cursor(name, "deals")
        task_cursor = None if self.full else self.store.get_cursor(name, "tasks")
        applier = Applier(self.store, connector, name, run_id, self.clock, report, dry_run=self.plan_only)

        owned = self.store.owned_tasks_for(name)
        if not self.plan_only:
            owned = applier.resolve_pending(owned)
        else:
            report.unresolved = sum(1 for t in owned.values() if t.state is TaskState.PENDING)

        owners = self._owners(name, connector)
        tracked = {state.deal_id: state for state in self.store.onboardings(source=name)}

        # 1. what changed: deals (won, or tracked), tasks we own, accounts of changed deals
        subset = None if self._subset is None else sorted(set(self._subset.get(name, ())))
        changed: dict[str, Deal] = {}
        task_updates: list[Task] = []
        if subset is not None:
            changed, task_updates = self._pull_subset(connector, subset, tracked, owned, options, mapping)
        else:
            since = deal_cursor - lookback if deal_cursor else None
            for page in self._pages(
                "deals", lambda token: connector.read_deals(since=since, page_token=token, options=options)
            ):
                for deal in page.records:
                    if deal.is_won or deal.id in tracked:
                        changed[deal.id] = mapping.normalise(ObjectKind.DEAL, deal)
        report.deals_pulled = len(changed)

        task_since = task_cursor - lookback if task_cursor else None
        if subset is None and (owned or task_since is None):
            for page in self._pages(
                "tasks", lambda token: connector.read_tasks(since=task_since, page_token=token)
            ):
                task_updates.extend(t for t in page.records if t.key and t.key in owned)
        owned = self._apply_task_updates(name, owned, task_updates)
        report.tasks_pulled = len(task_updates)

        account_ids = sorted({d.account_ids[0] for d in changed.values() if d.account_ids})
        fresh_accounts: dict[str, Account] = {}
        for batch in _chunks(account_ids, connector.max_read_batch):
            for account in connector.read_accounts(batch, options):
                fresh_accounts[account.id] = mapping.normalise(ObjectKind.ACCOUNT, account)

        # 2. evaluate every open onboarding and every changed deal
        open_ids = [s.deal_id for s in tracked.values() if s.status in OPEN_STATUSES]
        if subset is not None:
            wanted = set(subset)
            open_ids = [i for i in open_ids if i in wanted]
        cached = self.store.get_deals(name, [i for i in open_ids if i not in changed])
        deals = {**cached, **changed}
        need_accounts = {d.account_ids[0] for d in deals.values() if d.account_ids} - set(fresh_accounts)
        accounts = {**self.store.get_accounts(name, sorted(need_accounts)), **fresh_accounts}
        written = self.store.written_fields_for(name)
        phase_property = mapping.phase_property()
        by_onboarding: dict[str, dict[str, OwnedTask]] = defaultdict(dict)
        for key, task in owned.items():
            by_onboarding[task.onboarding_id][key] = task

        evaluations: list[tuple[Evaluation, Deal]] = []
        now = self.clock()
        tickets = signals.TicketIndex(self, name, accounts)
        signal_sources = signals.signal_sources(self.pm)
        alerts = AlertTracker(self.store, name, self.runtime.playbook, now)
        for index, deal in enumerate(deals.values()):
            onboarding_id = f"{name}:{deal.id}"
            state = tracked.get(deal.id)
            account = accounts.get(deal.account_ids[0]) if deal.account_ids else None
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
                written_phase=written.get(onboarding_id, {}).get(
                    (ObjectKind.DEAL, deal.id, phase_property or "")
                )
                if phase_property
                else None,
                tickets=tickets.tickets_of(account.id if account else None),
                signals=signals.plugin_signals(signal_sources, deal, account, now) if signal_sources else (),
            )
            override = None
            if state is None and deal.is_won:
                override = self.pm.hook.resolve_segment(deal=deal, account=account)
            evaluation = evaluate(
                state,
                facts,
                self.runtime.playbook,
                now,
                onboarding_id=onboarding_id,
                segment_override=override,
            )
            evaluation = alerts.apply(self._settle(evaluation, facts, now, onboarding_id), deal, account)
            if evaluation.state is not None:
                evaluations.append((evaluation, deal))
            if index % 500 == 0:
                self.progress("evaluate", 0, len(deals))
        self.progress("evaluate", len(deals), len(deals))
        report.onboardings_evaluated = len(evaluations)
        report.signals = {**tickets.summary(), "alerts": alerts.summary()}

        plan = plan_writes(
            evaluations,
            accounts=accounts,
            owned=owned,
            mapping=mapping,
            resolve_owner=self._owner_resolver(owners),
        )
        report.plan = plan
        report.api_cost_of_writes = plan.api_cost(connector.max_write_batch)
        transitions = [t for ev, _ in evaluations for t in ev.transitions]
        report.transitions = len(transitions)
        report.started = sum(1 for ev, _ in evaluations if ev.state and ev.state.deal_id not in tracked)

        if self.plan_only:
            report.signals["write_back"] = writeback.write_back(self, tickets, evaluations)
            return

        # 3. record state, apply writes batch by batch, then advance cursors
        crash_point("before-state-record")
        self._record_states(name, evaluations, tracked, transitions, changed, fresh_accounts)
        alerts.record(self.store)
        signals.record_health(self.store, evaluations, now)
        crash_point("after-state-record")
        written_keys = applier.apply(plan, mapping)
        self._refresh_caches(plan, written_keys, deals, accounts)
        report.signals["write_back"] = writeback.write_back(self, tickets, evaluations)
        report.writes_updated += sum(c.get("updated", 0) for c in report.signals["write_back"].values())
        if subset is None:
            crash_point("before-cursor")
            # Failed record writes do not hold the cursor back: they are retried from the store
            # (level-triggered), whereas a failed pull or call raises before this point.
            with self.store.transaction():
                self.store.set_cursor(name, "deals", run_started)
                self.store.set_cursor(name, "tasks", run_started)
            crash_point("after-cursor")
        alerts.notify(
            self.pm,
            {ev.state.id: ev.state for ev, _ in evaluations if ev.state is not None},
            {spec.key: spec.title for ev, _ in evaluations for spec in ev.tasks},
        )
        for ev, _ in evaluations:
            if ev.state is None:
                continue
            for transition in ev.transitions:
                self.pm.hook.onboarding_transitioned(onboarding=ev.state, transition=transition)

    # --- pieces ----------------------------------------------------------------------
    def _pull_subset(
        self,
        connector: Connector,
        ids: Sequence[str],
        tracked: Mapping[str, OnboardingState],
        owned: Mapping[str, OwnedTask],
        options: ReadOptions,
        mapping: MappingSet,
    ) -> tuple[dict[str, Deal], list[Task]]:
        """Deals ``ids`` read by id (won or tracked ones kept) and fresh statuses of their owned tasks."""
        changed: dict[str, Deal] = {}
        for batch in _chunks(ids, connector.max_read_batch):
            for deal in connector.read_deals_by_id(batch, options):
                if deal.is_won or deal.id in tracked:
                    changed[deal.id] = mapping.normalise(ObjectKind.DEAL, deal)
        onboardings = {f"{connector.instance}:{deal_id}" for deal_id in ids}
        keys = [k for k, t in owned.items() if t.onboarding_id in onboardings and t.state is TaskState.CREATED]
        updates: list[Task] = []
        for batch in _chunks(keys, connector.max_read_batch):
            updates.extend(t for t in connector.find_tasks(batch) if t.key and t.key in owned)
        return changed, updates

    def _settle(
        self, evaluation: Evaluation, facts: CustomerFacts, now: datetime, onboarding_id: str
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
            spec.key: TaskFact(
                key=spec.key, template_key=spec.template_key, status=TaskStatus.OPEN, due_at=spec.due_at
            )
            for spec in new
        }
        settled = evaluate(
            evaluation.state,
            dataclasses.replace(facts, tasks={**facts.tasks, **assumed}),
            self.runtime.playbook,
            now,
            onboarding_id=onboarding_id,
        )
        return dataclasses.replace(settled, transitions=evaluation.transitions + settled.transitions)

    def _pages(self, stage: str, read: Callable[[str | None], Page[T]]) -> Iterator[Page[T]]:
        token: str | None = None
        pulled = 0
        while True:
            page = read(token)
            pulled += len(page.records)
            self.progress(f"pull {stage}", len(page.records), None)
            yield page
            if not page.next_token or page.next_token == token:
                return
            token = page.next_token

    def _owners(self, name: str, connector: Connector) -> dict[str, Owner]:
        owners = self.store.owners(name)
        refreshed = self.store.get_cursor(name, "owners")
        if owners and refreshed and self.clock() - refreshed < OWNERS_MAX_AGE:
            return owners
        fresh = {o.id: o for o in connector.read_owners()}
        if not self.plan_only:
            with self.store.transaction():
                self.store.put_owners(name, list(fresh.values()))
                self.store.set_cursor(name, "owners", self.clock())
        return fresh

    def _owner_resolver(self, owners: dict[str, Owner]) -> Callable[[str, Deal, Account | None], str | None]:
        settings = self.runtime.config.owners

        def resolve(role: str, deal: Deal, account: Account | None) -> str | None:
            return self.pm.hook.resolve_owner(
                role=role, deal=deal, account=account, owners=owners, settings=settings
            )

        return resolve

    def _apply_task_updates(
        self, name: str, owned: dict[str, OwnedTask], updates: list[Task]
    ) -> dict[str, OwnedTask]:
        if not updates:
            return owned
        if not self.plan_only:
            self.store.update_task_status(name, updates)
            return self.store.owned_tasks_for(name)
        merged = dict(owned)
        for task in updates:
            if task.key in merged:
                merged[task.key] = dataclasses.replace(
                    merged[task.key], status=task.status, completed_at=task.completed_at
                )
        return merged

    def _record_states(
        self,
        name: str,
        evaluations: list[tuple[Evaluation, Deal]],
        tracked: dict[str, OnboardingState],
        transitions: list[Transition],
        changed: dict[str, Deal],
        fresh_accounts: dict[str, Account],
    ) -> None:
        with self.store.transaction():
            if changed:
                self.store.put_deals(list(changed.values()))
            if fresh_accounts:
                self.store.put_accounts(list(fresh_accounts.values()))
            states = [
                ev.state for ev, deal in evaluations if ev.state is not None and ev.state != tracked.get(deal.id)
            ]
            if states:
                self.store.save_onboardings(states)  # batched statements, not one per onboarding
            if transitions:
                self.store.record_transitions(transitions)

    def _refresh_caches(
        self, plan: WritePlan, written_keys: set[str], deals: dict[str, Deal], accounts: dict[str, Account]
    ) -> None:
        """After field writes, the cached records hold what the CRM now holds."""
        deal_updates: list[Deal] = []
        account_updates: list[Account] = []
        for planned in plan.fields:
            if not planned.write.values or planned.write.key not in written_keys:
                continue
            if planned.write.kind is ObjectKind.DEAL and planned.write.remote_id in deals:
                deal = deals[planned.write.remote_id]
                deal_updates.append(
                    dataclasses.replace(deal, properties={**deal.properties, **planned.write.values})
                )
            elif planned.write.kind is ObjectKind.ACCOUNT and planned.write.remote_id in accounts:
                acc = accounts[planned.write.remote_id]
                account_updates.append(
                    dataclasses.replace(acc, properties={**acc.properties, **planned.write.values})
                )
        with self.store.transaction():
            if deal_updates:
                self.store.put_deals(deal_updates)
            if account_updates:
                self.store.put_accounts(account_updates)
