"""The reconcile engine: one run of ``sync`` (apply) or ``plan`` (dry run) over every deal source.

Before anything is written or recorded, ``sync.preflight`` checks ``[owners]`` and every deal
source's mapping against the CRM; a problem stops the run (exit 2, naming the file and line).
First, every ticket-source instance (Zendesk, HubSpot tickets) is pulled with its own cursors
(``sync.tickets``; into the store, or in ``plan`` into memory). Then, for each connector instance
that is a deal source, a run:

1. resolves writes whose outcome is unknown (a crash between a CRM create and its
   record) by looking their keys up in the CRM, before anything could create them again;
2. pulls what changed since the cursor (taken at run start, minus a look-back overlap):
   deals, the accounts of changed deals (those a deal page did not carry, ``Page.accounts``,
   read by id), owners when stale, and, on a helper thread beside them, the tasks onboard-sync
   owns (background calls: a deal page or ticket search waiting for a search turn goes first,
   ``calls.priority``), staging each page in the store's record cache (``sync.chunks.Staged``)
   instead of holding it; then links helpdesk organizations to CRM accounts (``sync.tickets.TicketIndex``;
   link ids kept);
3. in chunks of ``[onboard_sync] chunk_size`` deals (``sync.chunks.deal_chunks``: the untouched
   open onboardings streamed from the store, then the changed deals), loads the chunk's states,
   owned tasks, written fields, records, its accounts' tickets and its alert episodes by id,
   evaluates them (``sync.evaluate``: pure; clock injected; alert episodes open/clear; the first
   chunks are settled while the task pull still runs and only the onboardings it changed are
   settled again after it, ``sync.speculation``), diffs
   them against the recorded tasks and the CRM's field values (``sync.plan.plan_writes``),
   records the states, alert episodes and health history, then applies the writes in the
   connector's batch size (a partial batch is carried to the next chunk, so the calls are those
   of one plan), recording each batch's results (and audit) right after it returns; account
   fields are planned after every chunk (the chunks' last partial batches are sent meanwhile,
   every kind at once), since onboardings in different chunks may share an account, and so are
   linked helpdesk organizations' fields (``sync.writeback``);
4. advances the cursors only after all chunks are applied and recorded, then calls the
   ``onboarding_transitioned`` and ``alert_raised`` / ``alert_cleared`` hooks.

``run(deal_ids={"hubspot": {...}})`` reconciles only those deals (the webhook worker): they are
read by id instead of the cursor pull, their owned tasks are refreshed by key, only they are
evaluated and written, and no cursor moves.

In plan mode the store is opened read-only and the connectors' gates refuse writes: the run
reads what sync reads, holds in memory what sync would record before evaluating (``Staged``,
``StagedTickets``), evaluates and reports the same writes, and changes nothing anywhere.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import TypeVar

from onboard_sync.calls.gate import TokenBucket
from onboard_sync.calls.priority import in_background
from onboard_sync.calls.window import RollingWindowLimiter
from onboard_sync.checks import expand_aliases, owner_properties
from onboard_sync.connector import Connector, Page, ReadOptions
from onboard_sync.crash import crash_point
from onboard_sync.errors import ApiError, OnboardSyncError, RateLimitExhausted, UserError
from onboard_sync.onboarding.state import Evaluation, OnboardingState, Transition, TransitionCause
from onboard_sync.plugins import get_plugin_manager
from onboard_sync.records import Account, Deal, ObjectKind, Owner
from onboard_sync.runtime import Runtime
from onboard_sync.store import Store
from onboard_sync.sync import deletions, health, preflight, writeback
from onboard_sync.sync.alerts import AlertTracker
from onboard_sync.sync.apply import Applier
from onboard_sync.sync.chunks import ChunkedRun, Staged, deal_chunks, deals_to_stage, pull_subset, refresh_caches
from onboard_sync.sync.evaluate import ChunkFacts, Settled, settle_chunk, with_alerts
from onboard_sync.sync.overlap import ApplyLane, ReadAhead, prefetched_pages
from onboard_sync.sync.plan import WritePlan, plan_closes, plan_writes
from onboard_sync.sync.report import InstanceReport, RunReport
from onboard_sync.sync.scratch import RunScratch
from onboard_sync.sync.speculation import AHEAD_CHUNKS, BackgroundPull, ChunkEvaluation, refreshed
from onboard_sync.sync.staged_tickets import StagedTickets
from onboard_sync.sync.tickets import TicketIndex, pull_ticket_sources

T = TypeVar("T")
Progress = Callable[[str, int, int | None], None]
OWNERS_MAX_AGE = timedelta(hours=24)


def utcnow() -> datetime:
    return datetime.now(UTC)


class Engine:
    """Runs ``sync`` or ``plan`` for every deal-source connector instance of a runtime."""

    def __init__(
        self,
        runtime: Runtime,
        store: Store,
        *,
        plan_mode: bool = False,
        clock: Callable[[], datetime] = utcnow,
        progress: Progress | None = None,
        full: bool = False,
        sleep: Callable[[float], None] | None = None,
        limiters: dict[str, TokenBucket | RollingWindowLimiter] | None = None,
        ticket_sources: Collection[str] | None = None,
    ) -> None:
        self.runtime = runtime
        self.store = store
        self.plan_mode = plan_mode
        self.clock = clock
        self.progress = progress or (lambda stage, advance, total: None)
        self.full = full
        self.sleep = sleep
        self.ticket_sources = None if ticket_sources is None else frozenset(ticket_sources)
        """The ticket-source instances a run pulls (None: every one; the durable engine names one)."""
        self.pm = get_plugin_manager()
        self._subset: Mapping[str, Collection[str]] | None = None
        self._tickets_pulled: Callable[[], object] = lambda: None
        self._pages_read = threading.Event()
        """Set once the first deal-source instance of the run has read its deal and task pages."""
        self.limiters: dict[str, TokenBucket | RollingWindowLimiter] = {} if limiters is None else limiters
        """One rate limiter per connector instance for the run (see ``ApiGate.bind``); ``serve``'s worker
        passes the same dict to every run, so back-to-back reconciles share the CRM's rate budget."""
        self.staged_tickets = StagedTickets(store, in_memory=plan_mode)
        """The helpdesk records the run pulled (in memory over the store in plan)."""
        self._checked_owners: dict[str, dict[str, Owner]] = {}  # read by the run-start check, used by the run
        self.unwritable: dict[str, str] = {}
        """Helpdesks whose mapping the run-start check could not check, with why: no write-back to them."""

    # --- the run ---------------------------------------------------------------------
    def run(
        self,
        instances: Sequence[str] | None = None,
        *,
        deal_ids: Mapping[str, Collection[str]] | None = None,
        ticket_ids: Mapping[str, Collection[str]] | None = None,
    ) -> RunReport:
        """Run every deal source (or ``instances``, possibly none: then only the ticket pull); with
        ``deal_ids`` only those deals per instance.

        ``ticket_ids`` (helpdesk instance → ticket ids a webhook named) are read by id before evaluation,
        and the helpdesks' exports are then pulled only if their last pull is a minute old."""
        from onboard_sync.connector import Capability

        names = list(self.runtime.instances_with(Capability.DEAL_SOURCE) if instances is None else instances)
        self._subset = deal_ids
        if deal_ids is not None:
            names = [name for name in names if deal_ids.get(name)]
        # mappings and owners are checked against the CRM before anything is written or recorded
        self._checked_owners = {}
        build = partial(self.runtime.connector, plan_mode=self.plan_mode, sleep=self.sleep, limiters=self.limiters)
        connectors, unchecked = preflight.open_checked(
            self.runtime, names, build, self._owners_checked, subset=bool(deal_ids)
        )
        self.unwritable = {name: why for name, why in unchecked.items() if name not in names}  # helpdesks
        started = self.clock()
        report = RunReport(mode="plan" if self.plan_mode else "sync", started_at=started)
        run_id = None if self.plan_mode else self.store.start_run(report.mode, started)
        report.run_id = run_id
        # the helpdesk pull runs beside the first instance's deal pull; each instance waits for it
        # before it evaluates (its ticket index reads what it stored). If the first deal source is
        # also a ticket source, its tickets are pulled last, once its pages are read: both pulls
        # would share its rate limiters, and the deal pages are on the critical path.
        self._pages_read.clear()
        self.staged_tickets = StagedTickets(self.store, in_memory=self.plan_mode)
        ticket_pool = ThreadPoolExecutor(1, thread_name_prefix="onboard-sync-tickets")
        try:
            tickets = ticket_pool.submit(
                pull_ticket_sources,
                self,
                report.ticket_sources,
                min_age=timedelta(minutes=1) if deal_ids is not None or ticket_ids else timedelta(0),
                busy=(names[0], self._pages_read.wait) if names else None,
                named=ticket_ids,
            )
            self._tickets_pulled = tickets.result
            for name in names:
                instance_report = InstanceReport(name=name)
                report.instances[name] = instance_report
                connector = connectors.pop(name)
                try:
                    instance_report.error = unchecked.get(name)
                    if instance_report.error is None:
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
                    self._pages_read.set()  # also when the instance failed before its pages were read
                    instance_report.api_calls = connector.call.summary()  # type: ignore[attr-defined]
                    usage = connector.api_usage()
                    if usage:
                        instance_report.api_calls["vendor_usage"] = usage
                    connector.close()
            tickets.result()
        finally:
            self._pages_read.set()  # never leave the ticket pull waiting (e.g. a connector failed to build)
            ticket_pool.shutdown(wait=True)
            for unused in connectors.values():  # instances after one that stopped the run
                unused.close()
            report.finished_at = self.clock()
            if run_id is not None:
                self.store.finish_run(run_id, report.finished_at, report.ok, report.as_dict())
        if not self.plan_mode:
            self.pm.hook.sync_finished(report=report.as_dict())
        return report

    def prepare(self) -> None:
        """Build every deal source's connector and pass the run-start check now, writing nothing:
        ``serve``'s worker calls it when it starts, so the first webhook reconcile does not pay for the
        connector's imports and the check (which webhook reconciles then reuse, ``preflight``)."""
        from onboard_sync.connector import Capability

        names = list(self.runtime.instances_with(Capability.DEAL_SOURCE))
        build = partial(self.runtime.connector, plan_mode=self.plan_mode, sleep=self.sleep, limiters=self.limiters)
        connectors, _ = preflight.open_checked(self.runtime, names, build, self._owners_checked, subset=True)
        self._checked_owners = {}
        for connector in connectors.values():
            connector.close()

    def _run_instance(self, name: str, connector: Connector, report: InstanceReport, run_id: int | None) -> None:
        with RunScratch() as scratch:  # what the run keeps from its pull to its last chunk, off the heap
            self._run_instance_in(scratch, name, connector, report, run_id)

    def _run_instance_in(
        self, scratch: RunScratch, name: str, connector: Connector, report: InstanceReport, run_id: int | None
    ) -> None:
        mapping = self.runtime.mappings[name]
        options = mapping.read_options(owner_properties(self.runtime.config.owners))  # property:NAME owners
        run_started = self.clock()
        lookback = timedelta(minutes=self.runtime.config.core.lookback_minutes)
        deal_cursor = None if self.full else self.store.get_cursor(name, "deals")
        task_cursor = None if self.full else self.store.get_cursor(name, "tasks")
        applier = Applier(self.store, connector, name, run_id, self.clock, report)

        staged = Staged(self.store, name, scratch, in_memory=self.plan_mode, due_on=self.runtime.calendar.at)
        pending = self.store.pending_tasks(name)
        if not self.plan_mode:
            applier.resolve_pending(pending)
        else:  # looked up the same way, laid over the ledger instead of recorded
            found, missing = applier.look_up_pending(pending)
            staged.settle_pending(found, missing)
            report.recovered, report.unresolved = len(found), len(missing)
        del pending

        owners = self._checked_owners.pop(name, None) or self._owners(name, connector)

        # 1. what changed: deals (won, or tracked), tasks we own, accounts of changed deals,
        #    staged page by page (the store's record cache in sync, memory in plan); the task
        #    pull runs beside the deal pull (both chains share the search limit)
        subset = None if self._subset is None else sorted(set(self._subset.get(name, ())))
        task_since = task_cursor - lookback if task_cursor else None
        pull_tasks = subset is None and (task_since is None or self.store.has_owned_tasks(name))
        tasks = BackgroundPull(
            partial(self._pull_tasks, name, connector, staged, task_since, report) if pull_tasks else None
        )
        with tasks:
            gone = self._pull_deals(name, connector, staged, subset, deal_cursor, lookback, options, report)
            # 2. the helpdesk tickets, then chunks settled ahead while the task pull still runs
            self._tickets_pulled()
            hooks = self.pm.hook
            run = ChunkedRun(
                name,
                connector,
                mapping,
                staged,
                applier,
                report,
                self._owner_resolver(owners),
                tickets=TicketIndex(self, name, staged.pulled_accounts()),
                alerts=AlertTracker(
                    self.store,
                    name,
                    self.runtime.playbook,
                    self.clock(),
                    hooked=bool(hooks.alert_raised.get_hookimpls() or hooks.alert_cleared.get_hookimpls()),
                ),
                signal_sources=health.signal_sources(self.pm),
            )
            run.hooked = bool(hooks.onboarding_transitioned.get_hookimpls())
            every = self.runtime.config.core.deleted_check_every()
            size = self.runtime.config.core.chunk_size
            ahead: list[ChunkEvaluation] = []
            if not self.plan_mode and gone is None and not deletions.check_due(self.store, name, self.clock(), every):
                for chunk in deal_chunks(self.store, name, staged.deal_ids, subset, size):
                    if tasks.done() or len(ahead) >= AHEAD_CHUNKS:
                        break
                    ahead.append(self._evaluate_chunk(run, chunk))
            tasks.join()
        deletions.handle_deleted(
            self.store,
            run,
            staged.deal_ids,
            options,
            gone,
            now=self.clock(),
            every=every,
            record=not self.plan_mode,
        )
        # 3. evaluate (or refresh what was settled ahead), plan, record and apply chunk by chunk;
        #    account fields once all are seen
        with ApplyLane(enabled=not self.plan_mode) as lane:  # chunk N's writes overlap N+1's evaluation
            for chunk in deal_chunks(self.store, name, staged.deal_ids, subset, size):
                if staged.cancelled:  # plan: sync records these as cancelled, so never evaluates them
                    chunk = [deal_id for deal_id in chunk if deal_id not in staged.cancelled]
                if ahead and ahead[0].deal_ids != chunk:
                    ahead.clear()  # the chunks came out differently: evaluate the rest now
                if ahead:
                    settle = partial(self._settle, run)
                    evaluated = refreshed(ahead.pop(0), staged.tasks_changed, name, self.store, settle)
                else:
                    evaluated = self._evaluate_chunk(run, chunk)
                self._finish_chunk(run, evaluated, lane)
            # the chunks' last partial batches (tasks, deal fields) go out while account fields are
            # planned: account writes come only from that plan, so the calls are the same
            self._apply(run, WritePlan(), lane, final=True)
            for ids in run.account_fields.id_chunks(size):
                plan = run.account_fields.plan(staged.accounts(ids))
                self._apply(run, plan, lane, final=False)
            self._apply(run, WritePlan(), lane, final=True)
        self.progress("evaluate", report.onboardings_evaluated, report.onboardings_evaluated)
        report.signals = {**run.tickets.summary(), "alerts": run.alerts.summary()}
        report.signals["write_back"] = writeback.write_back(self, run.tickets, run.account_fields, run.planned, run_id)
        report.api_cost_of_writes = run.planned.api_cost(connector.max_write_batch, writeback.batch_sizes(self.runtime))
        if self.plan_mode:
            report.plan = run.planned
            report.owners = {o.id: o.name or o.email or o.id for o in owners.values()}
            return
        report.writes_updated += sum(c.get("updated", 0) for c in report.signals["write_back"].values())

        # 4. advance cursors only after every chunk is applied and recorded
        if subset is None:
            crash_point("before-cursor")
            # Failed record writes do not hold the cursor back: they are retried from the store
            # (level-triggered), whereas a failed pull or call raises before this point.
            with self.store.transaction():
                self.store.set_cursor(name, "deals", run_started)
                self.store.set_cursor(name, "tasks", run_started)
            crash_point("after-cursor")
        run.alerts.notify(self.pm)
        for state, transitions in run.transitioned:
            for transition in transitions:
                self.pm.hook.onboarding_transitioned(onboarding=state, transition=transition)

    def _pull_deals(
        self,
        name: str,
        connector: Connector,
        staged: Staged,
        subset: Sequence[str] | None,
        deal_cursor: datetime | None,
        lookback: timedelta,
        options: ReadOptions,
        report: InstanceReport,
    ) -> set[str] | None:
        """Stage the changed deals (or ``subset``, read by id) and their accounts; returns the subset's
        deals the CRM did not return (None on a cursor pull). Sets ``_pages_read`` once the deal pages
        are in, so the helpdesk pull of the same CRM account may search."""
        mapping = self.runtime.mappings[name]
        too_early = self.runtime.config.core.won_too_early
        with ReadAhead(connector, partial(connector.read_accounts, options=options)) as ahead:

            def stage_accounts(results: Iterable[Sequence[Account]]) -> None:
                for fresh in results:
                    staged.add_accounts([mapping.normalise(ObjectKind.ACCOUNT, a) for a in fresh])

            gone: set[str] | None = None  # deals the CRM did not return by id (webhook subsets)
            if subset is not None:
                gone = pull_subset(self.store, connector, subset, staged, options, mapping, report, too_early)
            else:
                since = deal_cursor - lookback if deal_cursor else None
                for page in self.read_pages(
                    name, "deals", lambda token: connector.read_deals(since=since, page_token=token, options=options)
                ):
                    kept = deals_to_stage(staged, page.records, too_early, report)
                    staged.add_deals([mapping.normalise(ObjectKind.DEAL, d) for d in kept])
                    # accounts the page's calls already returned: only those of the deals kept
                    wanted = {a.id: a for a in page.accounts if a.id in staged.account_ids}
                    staged.add_accounts([mapping.normalise(ObjectKind.ACCOUNT, a) for a in wanted.values()])
                    ahead.request(staged.take_unread())  # read while the next pages are searched
                    stage_accounts(ahead.ready())
            report.deals_pulled = len(staged.deal_ids)
            self._pages_read.set()
            ahead.request(staged.take_unread())
            stage_accounts(ahead.finish())
        staged.account_ids.clear()
        return gone

    def _pull_tasks(
        self,
        name: str,
        connector: Connector,
        staged: Staged,
        since: datetime | None,
        report: InstanceReport,
        stop: threading.Event,
    ) -> None:
        """The owned tasks changed since ``since``: fresh statuses recorded page by page (on the
        ``BackgroundPull`` thread, beside the deal pull); returns early once ``stop`` is set."""
        # background calls: a deal page or the ticket search waiting for a search turn goes first
        # (they gate the evaluation ahead; only the writes at the end wait for the last task page)
        read = in_background(partial(connector.read_tasks, since=since))
        # one page at a time beside the deal pages (they gate the evaluation ahead), then several
        depth, deals_read = connector.read_concurrency, self._pages_read.is_set
        for page in self.read_pages(
            name, "tasks", lambda token: read(page_token=token), depth=depth, ahead_now=deals_read
        ):
            mine = self.store.owned_task_keys(name, [t.key for t in page.records if t.key])
            updates = [t for t in page.records if t.key and t.key in mine]
            staged.add_task_updates(updates)
            report.tasks_pulled += len(updates)
            if stop.is_set():
                return

    def _settle(self, run: ChunkedRun, facts: ChunkFacts, now: datetime) -> list[Settled]:
        """``facts`` evaluated and settled at ``now``, with the tickets of their accounts."""
        run.tickets.load(list(facts.accounts))
        return settle_chunk(
            run.name,
            facts,
            playbook=self.runtime.playbook,
            mapping=run.mapping,
            now=now,
            pm=self.pm,
            tickets=run.tickets,
            signal_sources=run.signal_sources,
            calendar=self.runtime.calendar,
            catch_up=self.runtime.catch_up,
        )

    def _evaluate_chunk(self, run: ChunkedRun, deal_ids: Sequence[str]) -> ChunkEvaluation:
        """Load one chunk's facts by id and settle them (nothing recorded: see ``_finish_chunk``)."""
        deals = run.staged.deals(deal_ids)
        onboarding_ids = [f"{run.name}:{deal_id}" for deal_id in deals]
        tracked = {s.deal_id: s for s in self.store.get_onboardings(onboarding_ids).values()}
        accounts = run.staged.accounts(d.account_ids[0] for d in deals.values() if d.account_ids)
        owned = run.staged.owned(onboarding_ids)
        facts = ChunkFacts(deals, tracked, accounts, owned, self.store.written_fields_of(onboarding_ids))
        latest = {} if self.plan_mode else self.store.latest_health(onboarding_ids)
        now = self.clock()
        return ChunkEvaluation(list(deal_ids), facts, now, self._settle(run, facts, now), latest)

    def _finish_chunk(self, run: ChunkedRun, chunk: ChunkEvaluation, lane: ApplyLane) -> None:
        """Apply alert episodes to one chunk's settled evaluations, plan, record and apply; nothing of
        it is kept after.

        Evaluation persists nothing, so it runs while the previous chunk's writes are in flight;
        recording waits for them (``lane.wait()`` raises their error before anything more is stored).
        """
        name, report = run.name, run.report
        facts, now = chunk.facts, chunk.now
        tracked, accounts, owned = facts.tracked, facts.accounts, facts.owned
        run.alerts.begin([f"{name}:{deal_id}" for deal_id in facts.deals], now)
        evaluations = with_alerts(chunk.settled, run.alerts)
        report.onboardings_evaluated += len(evaluations)
        self.progress("evaluate", report.onboardings_evaluated, max(report.onboardings_evaluated, report.deals_pulled))

        plan = plan_writes(
            evaluations,
            accounts=accounts,
            owned=owned,
            mapping=run.mapping,
            resolve_owner=run.resolve_owner,
            account_fields=run.account_fields,
            due_date=self.runtime.calendar.local_date,
        )
        plan.closes.extend(plan_closes(run.alerts.closing, owned))
        transitions = [t for ev, _ in evaluations for t in ev.transitions]
        report.transitions += len(transitions)
        report.started += sum(1 for ev, _ in evaluations if ev.state and ev.state.deal_id not in tracked)
        report.adopted += sum(1 for t in transitions if t.cause is TransitionCause.ADOPTED)
        report.tasks_skipped += len(plan.skips)
        lane.wait()
        if not self.plan_mode:
            crash_point("before-state-record")
            self._record_states(evaluations, tracked, transitions)
            run.alerts.record(self.store)
            health.record_health(self.store, evaluations, now, chunk.health)
            crash_point("after-state-record")
            if run.hooked:
                run.transitioned.extend((ev.state, ev.transitions) for ev, _ in evaluations if ev.state is not None)
        run.alerts.end_chunk(evaluations)
        self._apply(run, plan, lane, final=False)

    def _apply(self, run: ChunkedRun, plan: WritePlan, lane: ApplyLane, *, final: bool) -> None:
        """Count the plan; in sync hand it to the lane, which applies it (partial batches carried to
        the next chunk) and refreshes the caches."""
        if self.plan_mode:
            run.planned.extend(plan)
            return
        run.planned.count(plan)

        def apply() -> None:
            refresh_caches(self.store, run.name, run.applier.apply(plan, run.mapping, final=final))

        lane.submit(apply)

    # --- pieces ----------------------------------------------------------------------
    def read_pages(
        self,
        name: str,
        stage: str,
        read: Callable[[str | None], Page[T]],
        *,
        depth: int = 1,
        ahead_now: Callable[[], bool] = lambda: True,
    ) -> Iterator[Page[T]]:
        """Every page of a paged read, the next one already requested while the caller stages this one
        (up to ``depth`` in flight when the pages name later ones and ``ahead_now()``, ``Page.ahead``)."""
        what = f"connectors.{name}: the {stage} pull"
        for page in prefetched_pages(read, what=what, depth=depth, ahead_now=ahead_now):
            self.progress(f"pull {stage}", len(page.records), None)
            yield page

    def _owners_checked(self, name: str, connector: Connector) -> dict[str, Owner]:
        """The owners the run-start check compares ``[owners]`` with, kept for the run (read once)."""
        owners = self._checked_owners[name] = self._owners(name, connector)
        return owners

    def _owners(self, name: str, connector: Connector) -> dict[str, Owner]:
        owners = self.store.owners(name)
        refreshed = self.store.get_cursor(name, "owners")
        if owners and refreshed and self.clock() - refreshed < OWNERS_MAX_AGE:
            return owners
        fresh = {o.id: o for o in connector.read_owners()}
        if not self.plan_mode:
            with self.store.transaction():
                self.store.put_owners(name, list(fresh.values()))
                self.store.set_cursor(name, "owners", self.clock())
        return fresh

    def _owner_resolver(self, owners: dict[str, Owner]) -> Callable[[str, Deal, Account | None], str | None]:
        settings = expand_aliases(self.runtime.config.owners, self.runtime.playbook.roles)

        def resolve(role: str, deal: Deal, account: Account | None) -> str | None:
            return self.pm.hook.resolve_owner(role=role, deal=deal, account=account, owners=owners, settings=settings)

        return resolve

    def _record_states(
        self,
        evaluations: list[tuple[Evaluation, Deal]],
        tracked: Mapping[str, OnboardingState],
        transitions: list[Transition],
    ) -> None:
        """One chunk's states and transitions (its pulled records were staged as they came)."""
        with self.store.transaction():
            states = [ev.state for ev, deal in evaluations if ev.state is not None and ev.state != tracked.get(deal.id)]
            if states:
                self.store.save_onboardings(states)  # batched statements, not one per onboarding
            if transitions:
                self.store.record_transitions(transitions)
