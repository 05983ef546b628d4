"""Chunked runs: what the engine pulled this run, and the order in which it evaluates deals.

Called by ``sync.engine.Engine._run_instance``. A run's memory is bounded by its chunk size
(``[onboard_sync] chunk_size``): the pull stages each page's deals and the accounts of changed
deals in the store's record cache (``Staged``) instead of holding them, and ``deal_chunks``
yields the deal ids to evaluate, ``chunk_size`` at a time: first the tracked open onboardings
the pull did not touch (streamed from the store with keyset paging, ordered by id), then the
deals the pull changed, in pull order. Each chunk's states, owned tasks, written fields and
records — and the tickets of its accounts and the alert episodes of its onboardings — are loaded
from the store by id when the chunk is evaluated, and let go after it.

In plan mode the store is read-only: ``Staged`` keeps the pulled records in memory and lays
them over the store's cache, and lays over the task ledger what sync would record before it
evaluates (the pulled task statuses, the writes of unknown outcome it looked up, the tasks a
person deleted), and skips the onboardings sync would cancel, so plan sees what sync would.
What stays per run is the ordered set of changed deal ids and the set of accounts already read,
in the run's scratch database (``sync.scratch``, off the heap), and the accounts of staged deals
still to read (a few batches of ids): accounts a deal page carried (``Page.accounts``) are staged
with the page and not read by id again.
"""

from __future__ import annotations

import dataclasses
from collections import defaultdict
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from datetime import date, datetime
from functools import partial
from typing import Any

from onboard_sync.connector import Connector, ReadOptions
from onboard_sync.mappings import MappingSet
from onboard_sync.onboarding.state import OPEN_STATUSES, OnboardingState, Transition
from onboard_sync.records import Account, Deal, ObjectKind, Task, TaskStatus
from onboard_sync.store import OwnedTask, Store, TaskState
from onboard_sync.sync.alerts import AlertTracker
from onboard_sync.sync.apply import Applier
from onboard_sync.sync.health import SignalSource
from onboard_sync.sync.overlap import read_batches
from onboard_sync.sync.plan import AccountFields, PlannedFields, WritePlan
from onboard_sync.sync.report import InstanceReport
from onboard_sync.sync.scratch import IdLog, RunScratch
from onboard_sync.sync.staged_tickets import newest
from onboard_sync.sync.tickets import TicketIndex


class Staged:
    """Deals, accounts and task statuses pulled this run: in the store (sync) or in memory (plan)."""

    def __init__(
        self,
        store: Store,
        source: str,
        scratch: RunScratch,
        *,
        in_memory: bool,
        due_on: Callable[[date], datetime] | None = None,
    ) -> None:
        self.store = store
        self.source = source
        self.scratch = scratch
        self.in_memory = in_memory
        self.due_on = due_on
        """A CRM due *day* → the moment it means (that local day at the due time)."""
        self.deal_ids = scratch.ids("deals")
        """The staged deals' ids, in pull order."""
        self.account_ids: set[str] = set()
        """Accounts of the staged deals neither read nor requested yet (``take_unread``)."""
        self._accounts_read = scratch.ids("accounts_read")
        """Accounts read, or requested to be read by id, this run."""
        self._deals: dict[str, Deal] = {}
        self._accounts: dict[str, Account] = {}
        self._ledger: dict[str, dict[str, Any]] = {}
        """Plan only: per owned task key, the columns sync would have recorded before evaluating."""
        self._deleted: dict[str, datetime] = {}
        """Plan only: owned tasks a person deleted in the CRM, and when that was noticed."""
        self.cancelled: set[str] = set()
        """Plan only: deals whose onboarding sync would cancel (deleted in the CRM): not evaluated."""
        self.tasks_changed: set[str] = set()
        """Sync only: onboardings whose recorded tasks the task pull changed (``add_task_updates``)."""

    def tracked_among(self, deal_ids: Collection[str]) -> set[str]:
        """Which of ``deal_ids`` have an onboarding (any status)."""
        states = self.store.get_onboardings([f"{self.source}:{i}" for i in deal_ids])
        return {s.deal_id for s in states.values()}

    def add_deals(self, deals: Sequence[Deal]) -> None:
        self.deal_ids.add(deal.id for deal in deals)
        firsts = {deal.account_ids[0] for deal in deals if deal.account_ids}
        self.account_ids |= firsts - self._accounts_read.present(firsts)
        if self.in_memory:
            self._deals.update((d.id, d) for d in deals)
        elif deals:
            with self.store.transaction():
                self.store.put_deals(list(deals))

    def take_unread(self) -> set[str]:
        """The accounts to read by id now (``account_ids``): from here on counted as read, so they are
        requested once, and only the ids in flight are held in memory (``sync.overlap.ReadAhead``)."""
        unread, self.account_ids = self.account_ids, set()
        self._accounts_read.add(sorted(unread))
        return unread

    def add_accounts(self, accounts: Sequence[Account]) -> None:
        """Accounts read this run (by id, or with a deal page): staged, and not read again."""
        ids = {a.id for a in accounts}
        self._accounts_read.add(ids)
        self.account_ids -= ids
        if self.in_memory:
            self._accounts.update((a.id, a) for a in accounts)
        elif accounts:
            with self.store.transaction():
                self.store.put_accounts(list(accounts))

    def add_task_updates(self, updates: Sequence[Task]) -> None:
        """Fresh CRM statuses of owned tasks (matched by key): recorded (sync; the onboardings of the
        rows that changed are added to ``tasks_changed``) or laid over the ledger (plan) as
        ``Store.refresh_task_status`` records them."""
        if not updates:
            return
        if self.due_on is not None:
            updates = [
                dataclasses.replace(t, due_at=self.due_on(t.due_date)) if t.due_date is not None else t for t in updates
            ]
        if not self.in_memory:
            self.tasks_changed.update(self.store.refresh_task_status(self.source, updates).values())
            return
        for task in updates:
            if task.key:
                self._ledger.setdefault(task.key, {}).update(
                    status=TaskStatus(task.status),
                    completed_at=task.completed_at,
                    due_at=task.due_at,
                    owner_id=task.owner_id,
                    state=TaskState.CREATED,
                    remote_id=task.id,
                )

    def settle_pending(self, found: Mapping[str, str], missing: Collection[str]) -> None:
        """Plan: writes of unknown outcome, looked up in the CRM, as sync records them (found:
        created with that remote id; missing: failed, so created again)."""
        for key, remote_id in found.items():
            self._ledger.setdefault(key, {}).update(state=TaskState.CREATED, remote_id=remote_id, error=None)
        for key in missing:
            self._ledger.setdefault(key, {}).update(state=TaskState.FAILED)

    def mark_deleted(self, keys: Collection[str], at: datetime) -> None:
        """Plan: owned tasks a person deleted, as sync records them (``DELETED`` if still open)."""
        self._deleted.update((key, at) for key in keys)

    def deals(self, ids: Sequence[str]) -> dict[str, Deal]:
        """Records of ``ids`` in that order (missing ones absent); a pulled one replaces the cached
        one unless that is newer (the store's rule)."""
        found = self.store.get_deals(self.source, ids)
        found.update((i, newest(found.get(i), self._deals[i])) for i in ids if i in self._deals)
        return {i: found[i] for i in ids if i in found}

    def accounts(self, ids: Iterable[str]) -> dict[str, Account]:
        wanted = sorted(set(ids))
        found = self.store.get_accounts(self.source, wanted)
        found.update((i, newest(found.get(i), self._accounts[i])) for i in wanted if i in self._accounts)
        return found

    def pulled_accounts(self) -> dict[str, Account]:
        """Accounts pulled this run and held in memory (plan only; sync staged them in the store)."""
        return self._accounts

    def owned(self, onboarding_ids: Collection[str]) -> dict[str, OwnedTask]:
        owned = self.store.owned_tasks_of(onboarding_ids)
        if self._ledger or self._deleted:
            for key, task in owned.items():
                if key in self._ledger:
                    task = dataclasses.replace(task, **self._ledger[key])
                if key in self._deleted and task.status is TaskStatus.OPEN:
                    task = dataclasses.replace(task, status=TaskStatus.DELETED, completed_at=self._deleted[key])
                owned[key] = task
        return owned


def deal_chunks(
    store: Store, source: str, changed: IdLog, subset: Collection[str] | None, size: int
) -> Iterator[list[str]]:
    """Deal ids to evaluate, ``size`` at a time: untouched tracked open onboardings, then ``changed``.

    With ``subset`` (the webhook worker) only those deals' onboardings are considered.
    """
    if subset is not None:
        states = store.get_onboardings([f"{source}:{i}" for i in subset])
        opened = [s.deal_id for _, s in sorted(states.items()) if s.status in OPEN_STATUSES]
        pages: Iterator[list[str]] = iter([opened])
    else:
        pages = _open_tracked(store, source, size)
    chunk: list[str] = []
    for page in pages:
        for deal_id in changed.missing(page):
            chunk.append(deal_id)
            if len(chunk) >= size:
                yield chunk
                chunk = []
    if chunk:
        yield chunk
    yield from changed.chunks(size)


def _open_tracked(store: Store, source: str, size: int) -> Iterator[list[str]]:
    after: str | None = None
    while True:
        page = store.deal_ids_after(source, after, size, statuses=OPEN_STATUSES)
        if not page:
            return
        yield [deal_id for _, deal_id in page]
        after = page[-1][0]


def deals_to_stage(
    staged: Staged, deals: Sequence[Deal], too_early: Callable[[datetime | None], bool], report: InstanceReport
) -> list[Deal]:
    """The deals of a page that a run evaluates: the won ones, and any deal that has an onboarding.

    A won deal that closed before ``onboard_won_since`` (``too_early``) is left out unless it has one;
    those are counted in ``report.won_before_cutoff``."""
    early = {deal.id for deal in deals if deal.is_won and too_early(deal.close_date)}
    tracked = staged.tracked_among([deal.id for deal in deals if not deal.is_won or deal.id in early])
    report.won_before_cutoff += len(early - tracked)
    return [deal for deal in deals if (deal.is_won and deal.id not in early) or deal.id in tracked]


def pull_subset(
    store: Store,
    connector: Connector,
    ids: Sequence[str],
    staged: Staged,
    options: ReadOptions,
    mapping: MappingSet,
    report: InstanceReport,
    too_early: Callable[[datetime | None], bool],
) -> set[str]:
    """Deals ``ids`` read by id (see ``deals_to_stage``) and fresh statuses of their owned tasks.

    Returns the ids the CRM did not return (deleted deals: see ``sync.deletions``)."""
    returned: set[str] = set()
    for _, deals in read_batches(connector, ids, partial(connector.read_deals_by_id, options=options)):
        returned.update(deal.id for deal in deals)
        kept = deals_to_stage(staged, deals, too_early, report)
        staged.add_deals([mapping.normalise(ObjectKind.DEAL, deal) for deal in kept])
    owned = store.owned_tasks_of([f"{connector.instance}:{deal_id}" for deal_id in ids])
    keys = sorted(k for k, t in owned.items() if t.state is TaskState.CREATED)
    updates: list[Task] = []
    find = partial(connector.find_tasks, deal_ids=store.deals_of_tasks(keys))
    for _, found in read_batches(connector, keys, find):
        mine = store.owned_task_keys(connector.instance, [t.key for t in found if t.key])
        updates.extend(t for t in found if t.key and t.key in mine)
    staged.add_task_updates(updates)
    report.tasks_pulled = len(updates)
    return set(ids) - returned


def refresh_caches(store: Store, name: str, written: Sequence[PlannedFields]) -> None:
    """After field writes, the cached records hold what the CRM now holds."""
    if not written:
        return
    by_kind: dict[ObjectKind, dict[str, dict[str, str | None]]] = defaultdict(dict)
    for planned in written:
        if planned.write.values:
            by_kind[planned.write.kind].setdefault(planned.write.remote_id, {}).update(planned.write.values)
    deal_values, account_values = by_kind.get(ObjectKind.DEAL, {}), by_kind.get(ObjectKind.ACCOUNT, {})
    deals = store.get_deals(name, list(deal_values))
    accounts = store.get_accounts(name, list(account_values))
    with store.transaction():
        if deals:
            store.put_deals(
                [dataclasses.replace(d, properties={**d.properties, **deal_values[i]}) for i, d in deals.items()]
            )
        if accounts:
            store.put_accounts(
                [dataclasses.replace(a, properties={**a.properties, **account_values[i]}) for i, a in accounts.items()]
            )


@dataclasses.dataclass
class ChunkedRun:
    """What one instance's chunked run carries from chunk to chunk (no records)."""

    name: str
    connector: Connector
    mapping: MappingSet
    staged: Staged
    applier: Applier
    report: InstanceReport
    resolve_owner: Callable[[str, Deal, Account | None], str | None]
    tickets: TicketIndex
    alerts: AlertTracker
    signal_sources: list[SignalSource]
    hooked: bool = False
    planned: WritePlan = dataclasses.field(default_factory=WritePlan)
    transitioned: list[tuple[OnboardingState, list[Transition]]] = dataclasses.field(default_factory=list)

    def __post_init__(self) -> None:
        self.account_fields = AccountFields(self.mapping, self.staged.scratch)
