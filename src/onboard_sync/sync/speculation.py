"""Evaluating ahead of the task pull: chunks settled while its pages still arrive, checked after.

On an incremental run the owned-task search is the longest chain of calls (HubSpot: 48 pages of
200 at search's 5 per second for the 9,483 tasks of the 10,000-deal benchmark), and a chunk
cannot be final before its last page: any page may carry a task of any onboarding. The engine
used to evaluate only after that page, so a no-change run spent 3.6 s of CPU (load 4) after its
last call. Now (``sync.engine``):

* :class:`BackgroundPull` runs the task pull on a helper thread from the start of the run, beside
  the deal pull: both chains share the search limit, so neither leaves it idle; once the deal pages
  are in, the task pages the connector names ahead (``Page.ahead``) are read several at once;
* once the deals, their accounts and the helpdesk tickets are in, the engine loads and settles
  chunks (``sync.evaluate.settle_chunk``: no alert episodes, nothing recorded or written) while
  the task pull runs, up to :data:`AHEAD_CHUNKS` of them (their facts are held in memory);
* when the pull has ended, :func:`refreshed` re-reads the owned tasks of the onboardings whose
  recorded tasks the pull changed (``Staged.tasks_changed``, filled by ``Store.refresh_task_status``
  after each page's commit) and settles those again; every other onboarding's facts are exactly
  what the pull left in the store, so its evaluation stands. Then each chunk goes on as before:
  alert episodes, plan, record, apply, in chunk order.

Nothing is recorded or sent before the pull ends, so crash safety and the order of what is
persisted are unchanged; plan mode and webhook subsets (no task search) evaluate after the pull.
A run that checks for deleted records this time (daily) does not evaluate ahead: that check
changes states and tasks after the pull.
"""

from __future__ import annotations

import dataclasses
import logging
import threading
from collections.abc import Callable, Collection, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import datetime
from types import TracebackType

from onboard_sync.store import HealthRecord, Store
from onboard_sync.sync.evaluate import ChunkFacts, Settled

AHEAD_CHUNKS = 4
"""At most this many chunks are settled ahead of the task pull (each holds its facts until then)."""
log = logging.getLogger("onboard_sync.sync")


@dataclasses.dataclass
class ChunkEvaluation:
    """One chunk's facts, as loaded at ``now``, and its settled evaluations (no alert episodes yet)."""

    deal_ids: list[str]
    facts: ChunkFacts
    now: datetime
    settled: list[Settled]
    health: Mapping[str, HealthRecord] = dataclasses.field(default_factory=dict)
    """Each onboarding's newest health row (sync), read with the facts: only this chunk records them."""


class BackgroundPull:
    """``pull(stop)`` on a helper thread (or nothing, given None); a context manager.

    ``join`` waits for it and raises what it raised. Leaving the block on an error sets ``stop`` (the
    pull returns after its current page) and waits for it; its own error is then only logged.
    """

    def __init__(self, pull: Callable[[threading.Event], None] | None) -> None:
        self.stop = threading.Event()
        self._pool: ThreadPoolExecutor | None = None
        self._future: Future[None] | None = None
        if pull is not None:
            self._pool = ThreadPoolExecutor(1, thread_name_prefix="onboard-sync-tasks")
            self._future = self._pool.submit(pull, self.stop)

    def done(self) -> bool:
        return self._future is None or self._future.done()

    def join(self) -> None:
        if self._future is not None:
            self._future.result()

    def __enter__(self) -> BackgroundPull:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        if self._pool is None:
            return
        if exc is not None:
            self.stop.set()
            if self._future is not None and self._future.exception() is not None:
                log.debug("the task pull failed while the run was stopping", exc_info=self._future.exception())
        self._pool.shutdown(wait=True)


def refreshed(
    chunk: ChunkEvaluation,
    changed: Collection[str],
    source: str,
    store: Store,
    settle: Callable[[ChunkFacts, datetime], list[Settled]],
) -> ChunkEvaluation:
    """``chunk`` with the onboardings in ``changed`` (ids) loaded and settled again with their owned
    tasks as the store holds them now; the others as they were (their facts did not change)."""
    stale = {f"{source}:{deal_id}" for deal_id in chunk.facts.deals} & set(changed)
    if not stale:
        return chunk
    owned = {key: task for key, task in chunk.facts.owned.items() if task.onboarding_id not in stale}
    owned.update(store.owned_tasks_of(sorted(stale)))
    facts = dataclasses.replace(chunk.facts, owned=owned)
    stale_deals = {d: deal for d, deal in facts.deals.items() if f"{source}:{d}" in stale}
    again = {item[1].id: item for item in settle(dataclasses.replace(facts, deals=stale_deals), chunk.now)}
    before = {item[1].id: item for item in chunk.settled}
    settled = [
        item
        for deal_id in facts.deals
        if (item := (again.get(deal_id) if deal_id in stale_deals else before.get(deal_id))) is not None
    ]
    return dataclasses.replace(chunk, facts=facts, settled=settled)
