"""The reconcile worker of ``serve``: drains the inbox into coalesced reconciles, and runs a periodic full one.

``onboard-sync serve`` runs it in a child process (:mod:`onboard_sync.webhooks.worker_process`,
``[serve] worker = "process"``, the default), so evaluation never holds the receiver's GIL;
``worker = "thread"`` (and the in-process tests) run it as a daemon thread beside the
receiver. What it reports (events processed, reconciles, health) goes through a
:class:`WorkerReport`. Each wake-up
(a new delivery, the poll interval, or the full-sync schedule):

* claims every pending event, waits ``coalesce_seconds`` first so a burst lands together, and under
  load (at a wake-up and between the batches of one drain) until the previous webhook reconcile is
  paid for at half the CRM's rate limit
  (:class:`~onboard_sync.calls.pacing.Pacer`), so reconciles grow with the load instead of
  spending the limit on many small ones; every engine it builds shares one set of rate limiters;
* drops deal events that cannot start an onboarding (a change of a property that cannot make a
  deal won, on a deal without onboarding: :func:`~onboard_sync.reconcile.deals_to_reconcile`);
* turns ticket events of a helpdesk into the deals of the customers they concern
  (:func:`~onboard_sync.reconcile.deals_of_ticket_events`), reconciled with the named tickets read by id;
* groups the rest: ``deal`` events of a deal-source instance become one
  ``Engine.run(deal_ids={instance: {...}})`` (a burst for one customer is one reconcile of it),
  anything else (a company, ticket, unknown object) one incremental run of the deal sources;
* after an event of a helpdesk (a ticket source that is not a deal source, e.g. Zendesk) runs one
  more incremental reconcile ``settle_seconds`` (61) after the last such event: helpdesk exports
  leave out the most recent minute, so the ticket a delivery names is often not exported yet when
  the first run pulls; the follow-up picks it up within about a minute instead of at the next
  full reconcile;
* runs each reconcile through the shared unit (:func:`onboard_sync.reconcile.reconcile`),
  which holds the store's ``sync`` run lock for it, so it never overlaps a cron ``sync``
  (if cron holds it, the events wait and are retried with backoff);
* marks the events processed only after the reconcile finished; if it failed (API down) they
  are released and retried, and the periodic full reconcile is the backstop (level-triggered:
  reconcile re-reads current state, so order and duplicates do not matter).
"""

from __future__ import annotations

import logging
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Collection, Mapping
from datetime import UTC, datetime
from typing import Protocol

from onboard_sync.calls.pacing import Pacer
from onboard_sync.connector import Capability
from onboard_sync.errors import LockHeld, OnboardSyncError
from onboard_sync.inbound import InboundEvent
from onboard_sync.logs import log_reconcile
from onboard_sync.reconcile import deals_of_ticket_events, deals_to_reconcile, reconcile
from onboard_sync.runtime import Runtime
from onboard_sync.store import Store
from onboard_sync.sync.engine import Engine
from onboard_sync.sync.report import RunReport
from onboard_sync.webhooks.metrics import ServeMetrics
from onboard_sync.webhooks.queue import EventQueue, QueuedEvent

log = logging.getLogger("onboard_sync.webhooks.worker")
CLAIM_BATCH = 1000
MAX_BACKOFF = 60.0
SETTLE_SECONDS = 61.0
"""Zendesk's incremental exports leave out changes of the last minute (and start at least a minute ago)."""


class Flag(Protocol):
    """A ``threading.Event`` or a ``multiprocessing`` one (the worker process shares them with serve)."""

    def set(self) -> None: ...
    def clear(self) -> None: ...
    def is_set(self) -> bool: ...
    def wait(self, timeout: float | None = None) -> bool: ...


class WorkerReport(Protocol):
    """Where the worker tells what it did: serve's metrics, directly or from the worker process."""

    def processed(self, source: str, lag_seconds: float) -> None: ...
    def reconciled(self, kind: str, outcome: str) -> None: ...
    def status(self, health: dict[str, object]) -> None: ...


class MetricsReport:
    """A ``WorkerReport`` that updates ``ServeMetrics`` in this process."""

    def __init__(self, metrics: ServeMetrics) -> None:
        self.metrics = metrics
        self.health: dict[str, object] = {}

    def processed(self, source: str, lag_seconds: float) -> None:
        self.metrics.processed.labels(source).inc()
        self.metrics.lag_seconds.labels(source).observe(max(0.0, lag_seconds))

    def reconciled(self, kind: str, outcome: str) -> None:
        self.metrics.reconciles.labels(kind, outcome).inc()

    def status(self, health: dict[str, object]) -> None:
        self.health = dict(health)


class Worker:
    """Drains the queue into reconciles; ``notify()`` wakes it, ``stop()`` ends it."""

    def __init__(
        self,
        runtime: Runtime,
        store: Store,
        queue: EventQueue,
        report: WorkerReport | ServeMetrics,
        *,
        full_every_seconds: float | None,
        coalesce_seconds: float = 0.1,
        poll_seconds: float = 2.0,
        settle_seconds: float = SETTLE_SECONDS,
        engine_factory: Callable[[], Engine] | None = None,
        wake: Flag | None = None,
        stop: Flag | None = None,
    ) -> None:
        self.runtime = runtime
        self.store = store
        self.queue = queue
        self.report: WorkerReport = MetricsReport(report) if isinstance(report, ServeMetrics) else report
        self.full_every = full_every_seconds or None
        self.coalesce = coalesce_seconds
        self.poll = poll_seconds
        self.limiters: dict[str, object] = {}
        """The rate limiters of every engine this worker builds: one budget across reconciles."""
        self.engine_factory = engine_factory or (lambda: Engine(runtime, store, limiters=self.limiters))  # type: ignore[arg-type]
        self.pacer = Pacer(self.limiters)
        self.deal_sources = set(runtime.instances_with(Capability.DEAL_SOURCE))
        self.helpdesks = set(runtime.instances_with(Capability.TICKET_SOURCE)) - self.deal_sources
        self.settle = settle_seconds
        self._follow_up: float | None = None
        """Monotonic time of the pending follow-up run after helpdesk events (None: none pending)."""
        self._wake: Flag = wake or threading.Event()
        self._stop: Flag = stop or threading.Event()
        self._thread: threading.Thread | None = None
        self._backoff = 0.0
        self.last_full: datetime | None = None
        self.last_error: str | None = None
        self.reconciles = 0
        self._last_report: RunReport | None = None

    # --- lifecycle -------------------------------------------------------------------
    def start(self) -> None:
        """Run the loop in a daemon thread of this process."""
        self._wake.set()  # drain whatever a previous process left unprocessed
        self._thread = threading.Thread(target=self._warm_loop, name="onboard-sync-worker", daemon=True)
        self._thread.start()

    def run(self) -> None:
        """Run the loop in the calling thread until ``stop`` is set (the worker process's main)."""
        self._wake.set()
        self._warm_up()
        self._report_status()  # serve's /healthz says "running" from here on
        self._loop()

    def notify(self) -> None:
        self._wake.set()

    def stop(self, timeout: float = 30.0) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)

    @property
    def alive(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def health(self) -> dict[str, object]:
        return {"worker": "running" if self.alive else "stopped", **self._status()}

    def _status(self) -> dict[str, object]:
        return {
            "last_full_sync": self.last_full.isoformat() if self.last_full else None,
            "last_error": self.last_error,
            "reconciles": self.reconciles,
        }

    def _report_status(self) -> None:
        self.report.status(self._status())

    # --- the loop --------------------------------------------------------------------
    def _warm_up(self) -> None:
        """Import the connectors and pass the mapping check before the first event (see ``Engine.prepare``);
        a failure is only logged: the first reconcile then meets it and reports it."""
        try:
            with self.store.run_lock("sync"):
                self.engine_factory().prepare()
        except LockHeld:
            pass
        except Exception as exc:  # the CRM down at start, a mapping problem: the reconcile reports it
            log.warning("worker warm-up: %s", exc)

    def _warm_loop(self) -> None:
        self._warm_up()
        self._loop()

    def _loop(self) -> None:
        next_full = time.monotonic() + self.full_every if self.full_every else None
        while not self._stop.is_set():
            wait = self.poll if self._backoff == 0 else self._backoff
            for due in (next_full, self._follow_up):
                if due is not None:
                    wait = max(0.0, min(wait, due - time.monotonic()))
            woken = self._wake.wait(wait)
            self._wake.clear()
            if self._stop.is_set():
                return
            pause = max(self.coalesce if woken else 0.0, self.pacer.wait_seconds())
            if pause and self._stop.wait(pause):
                return
            try:
                self.drain()
                if self._follow_up is not None and time.monotonic() >= self._follow_up:
                    self.follow_up()
                if next_full is not None and time.monotonic() >= next_full:
                    self.full_reconcile()
                    next_full = time.monotonic() + (self.full_every or 0)
            except Exception:  # never let the thread die: log and retry later
                log.exception("webhook worker iteration failed")

    def drain(self) -> int:
        """Process everything pending now; return how many events were completed.

        Events that arrived during a reconcile are claimed once the pacer allows the next one, so a
        steady stream (HubSpot sends deliveries every second under load) is paced here too, not only
        at a wake-up: without this wait back-to-back reconciles spent the whole rate limit and the
        rolling window then held a won deal's first task back for seconds."""
        done = 0
        while not self._stop.is_set():
            if done and self._stop.wait(self.pacer.wait_seconds()):
                break
            batch = self.queue.claim(CLAIM_BATCH)
            if not batch:
                break
            if not self._process(batch):
                break
            done += len(batch)
        return done

    def _process(self, batch: list[QueuedEvent]) -> bool:
        deal_ids: dict[str, set[str]] = defaultdict(set)
        deal_events: dict[str, list[InboundEvent]] = defaultdict(list)
        ticket_ids: dict[str, set[str]] = defaultdict(set)  # helpdesk tickets named: read by id
        ticket_events: list[tuple[str, InboundEvent]] = []
        incremental = helpdesk = False
        for item in batch:
            helpdesk = helpdesk or item.source in self.helpdesks
            try:
                event = InboundEvent.from_payload(item.key, item.payload)
            except (ValueError, KeyError):
                log.warning("unreadable inbox event id=%d: reconciling all deal sources", item.id)
                incremental = True
                continue
            if event.kind == "deal" and item.source in self.deal_sources:
                deal_events[item.source].append(event)
            elif event.kind == "ticket" and item.source in self.helpdesks:
                ticket_ids[item.source].add(event.object_id)
                ticket_events.append((item.source, event))
            else:
                incremental = True
        if ticket_events:  # reconcile the customers the tickets belong to, or all if one is not known
            customers = deals_of_ticket_events(self.store, ticket_events)
            for source, ids in (customers or {}).items():
                deal_ids[source].update(ids)
            incremental = incremental or customers is None
        for source, events in deal_events.items():
            deal_ids[source].update(deals_to_reconcile(self.store, source, events))
        ok = True
        if any(deal_ids.values()):
            count = sum(len(ids) for ids in deal_ids.values())
            started = time.monotonic()
            named = None if incremental else ticket_ids or None  # else the incremental run reads them
            ok = self._reconcile(
                "webhook", lambda engine: self._run(engine, deal_ids=deal_ids, ticket_ids=named), deals=count
            )
            calls = int(self._last_report.api_calls()["total"]) if self._last_report else 0
            self.pacer.record(started, calls, [s for s, ids in deal_ids.items() if ids])
        if ok and incremental:
            ok = self._reconcile("incremental", lambda engine: self._run(engine, ticket_ids=ticket_ids or None))
        ids = [item.id for item in batch]
        if not ok:
            self.queue.release(ids)
            self._backoff = min(MAX_BACKOFF, max(1.0, self._backoff * 2))
            return False
        self._backoff = 0.0
        if helpdesk:  # pushed back by every later one: each run pulls all but the last minute
            self._follow_up = time.monotonic() + self.settle
        self.queue.complete(ids)
        now = datetime.now(UTC)
        for item in batch:
            self.report.processed(item.source, (now - item.received_at).total_seconds())
        return True

    def follow_up(self) -> bool:
        """The incremental run after helpdesk events, once their changes are old enough to be exported."""
        ok = self._reconcile("follow-up", self._run)
        self._follow_up = None if ok else time.monotonic() + self.settle  # e.g. cron held the lock: it pulled
        return ok

    def full_reconcile(self) -> bool:
        """The scheduled run over every deal source (incremental from the cursors, like cron's ``sync``)."""
        ok = self._reconcile("full", self._run)
        if ok:
            self.last_full = datetime.now(UTC)
        return ok

    def _reconcile(self, kind: str, run: Callable[[Engine], RunReport], deals: int | None = None) -> bool:
        started = time.monotonic()
        report: list[RunReport] = []
        outcome = "error"
        try:
            outcome = self._reconcile_once(kind, lambda engine: _keep(report, run(engine)))
            return outcome in ("ok", "write-failures")
        finally:
            self._last_report = report[0] if report else None
            log_reconcile(kind, outcome, time.monotonic() - started, report[0] if report else None, deals)
            self._report_status()

    def _run(
        self,
        engine: Engine,
        deal_ids: dict[str, set[str]] | None = None,
        ticket_ids: Mapping[str, Collection[str]] | None = None,
    ) -> RunReport:
        """One reconcile (the shared unit, :func:`onboard_sync.reconcile.reconcile`) under the ``sync`` lock;
        ``ticket_ids``: the tickets webhooks named, read by id."""
        return reconcile(self.runtime, self.store, deal_ids=deal_ids, ticket_ids=ticket_ids, engine=engine)

    def _reconcile_once(self, kind: str, run: Callable[[Engine], RunReport]) -> str:
        """Run one reconcile under the run lock; its outcome: ok, write-failures, lock-held or error."""
        try:
            report = run(self.engine_factory())
        except LockHeld:
            log.info("%s reconcile postponed: another sync holds the run lock", kind)
            self.report.reconciled(kind, "lock-held")
            return "lock-held"
        except OnboardSyncError as exc:
            self.last_error = str(exc)
            log.error("%s reconcile failed: %s", kind, exc)
            self.report.reconciled(kind, "error")
            return "error"
        except Exception as exc:  # an unexpected failure: the events are retried, the thread lives
            self.last_error = type(exc).__name__
            log.exception("%s reconcile crashed", kind)
            self.report.reconciled(kind, "error")
            return "error"
        self.reconciles += 1
        errors = [f"{name}: {inst.error}" for name, inst in report.instances.items() if inst.error]
        if errors:
            self.last_error = "; ".join(errors)
            log.error("%s reconcile incomplete: %s", kind, self.last_error)
            self.report.reconciled(kind, "error")
            return "error"
        self.last_error = None
        outcome = "ok" if report.ok else "write-failures"
        self.report.reconciled(kind, outcome)
        return outcome


def _keep(kept: list[RunReport], report: RunReport) -> RunReport:
    """Keep a reconcile's report for its log line (``logs.log_reconcile``) and pass it on."""
    kept.append(report)
    return report
