"""What one queued reconcile does: turn a trigger into calls of the shared reconcile unit.

:func:`run_trigger` is engine-free (no DBOS import): the workflow step of
:mod:`onboard_sync.durable.workflows` calls it, and so can a test. For connector instance
``instance`` it

1. reads the instance's pending inbox events (``serve --receiver-only`` persisted them);
2. coalesces: a ``webhook`` trigger with no pending event returns at once (an earlier reconcile
   drained them); a ``schedule`` / ``helpdesk`` trigger returns at once if a run of the instance
   that started after the trigger was asked for already finished (its cursor says when it
   started). So a burst of triggers costs one reconcile, and the scheduled run is the backstop;
3. reconciles through :func:`onboard_sync.reconcile.reconcile` under the instance's run lock
   (:func:`~onboard_sync.reconcile.instance_lock`): a deal source's deal events become a run for
   the deals they name (:func:`~onboard_sync.reconcile.deals_to_reconcile`: a change that cannot
   start an onboarding, on a deal without one, is completed without reading the deal), anything
   else (other events, a tick) an incremental run of the instance, which also pulls the
   instance's own tickets (HubSpot tickets, Salesforce cases); a helpdesk that is no deal source
   (Zendesk) gets a ticket pull of its own, except for a ``webhook`` trigger whose events are all
   tickets of organizations linked to onboardings' accounts
   (:func:`~onboard_sync.reconcile.deals_of_ticket_events`, as ``serve``'s worker):
   those customers' deals are reconciled at once with the named tickets read by id (a helpdesk's
   export leaves out its last minute), under each CRM instance's run lock (``live``), so their
   health is written within seconds and that CRM's partition never has two callers at once;
4. marks the events processed only after their reconcile finished without error.

A worker process passes its :class:`Budget`: the rate limiters every reconcile of the process
shares (back-to-back reconciles of one portal cannot overrun its window between them), and the
:class:`~onboard_sync.calls.pacing.Pacer` that makes a webhook trigger wait until the process's
last webhook reconcile of the instance is paid for at half its rate limit, so that events arriving
meanwhile join one reconcile. Pacing is per process: workers on several hosts do not share it.

It returns a JSON-able outcome: ``{"outcome": ok | write-failures | nothing-new | lock-held |
error, ...}`` with counts, the run ids, whether helpdesk events were handled
(``helpdesk_events``: the deal sources should reconcile; ``live``: the CRM instances whose deals of
the customers concerned were already reconciled) and whether more events wait (``more``).
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from onboard_sync.calls.pacing import Pacer
from onboard_sync.connector import Capability
from onboard_sync.errors import LockHeld, OnboardSyncError
from onboard_sync.logs import log_reconcile
from onboard_sync.reconcile import deals_of_ticket_events, deals_to_reconcile, instance_lock, reconcile

if TYPE_CHECKING:
    from onboard_sync.inbound import InboundEvent
    from onboard_sync.runtime import Runtime
    from onboard_sync.store import Store
    from onboard_sync.sync.report import RunReport

log = logging.getLogger("onboard_sync.durable")
CLAIM_BATCH = 1000


@dataclass
class Budget:
    """The rate limiters a worker process's reconciles share, and the pacer of its webhook triggers."""

    limiters: dict[str, Any] = field(default_factory=dict)
    pacer: Pacer = field(init=False)

    def __post_init__(self) -> None:
        self.pacer = Pacer(self.limiters)


def run_trigger(
    runtime: Runtime,
    store: Store,
    instance: str,
    trigger: str,
    requested_at: datetime,
    budget: Budget | None = None,
) -> dict[str, Any]:
    """Reconcile ``instance`` for one trigger (see the module docstring); return its outcome, and log
    its one INFO line (``logs.log_reconcile``, event ``engine.reconcile``)."""
    started = time.monotonic()
    reports: list[RunReport] = []
    budget = budget or Budget()
    if trigger == "webhook":
        time.sleep(budget.pacer.wait_seconds())
    result = _run_trigger(runtime, store, instance, trigger, requested_at, reports, budget)
    if trigger == "webhook" and len(reports) == 1 and result.get("deals"):
        paced = result.get("live") or [instance]  # a live helpdesk reconcile spent the CRM's calls
        budget.pacer.record(started, int(reports[0].api_calls()["total"]), paced)
    report = reports[0] if len(reports) == 1 else None
    seconds = time.monotonic() - started
    log_reconcile(trigger, result["outcome"], seconds, report, result.get("deals"), instance=instance)
    return result


def _run_trigger(
    runtime: Runtime,
    store: Store,
    instance: str,
    trigger: str,
    requested_at: datetime,
    reports: list[RunReport],
    budget: Budget,
) -> dict[str, Any]:
    from onboard_sync.inbound import InboundEvent
    from onboard_sync.sync.engine import Engine

    deal_sources = set(runtime.instances_with(Capability.DEAL_SOURCE))
    if instance not in runtime.config.connectors:
        return {"outcome": "error", "error": f"no connector instance {instance!r} in the config"}
    helpdesk = instance not in deal_sources
    own_tickets = {instance} & set(runtime.instances_with(Capability.TICKET_SOURCE))
    events = store.inbox_pending(CLAIM_BATCH, source=instance)
    if not events:
        if trigger == "webhook":
            return {"outcome": "nothing-new"}
        last_start = store.get_cursor(instance, "tickets" if helpdesk else "deals")
        if last_start is not None and last_start >= requested_at:
            return {"outcome": "nothing-new"}
    deal_events: list[InboundEvent] = []
    ticket_events: list[tuple[str, InboundEvent]] = []
    incremental = trigger != "webhook"
    for item in events:
        try:
            event = InboundEvent.from_payload(item.event_id, item.payload)
        except (ValueError, KeyError):
            incremental = True
            continue
        if event.kind == "deal" and not helpdesk:
            deal_events.append(event)
        elif event.kind == "ticket" and helpdesk:
            ticket_events.append((instance, event))
        else:
            incremental = True
    customers = None  # CRM instance → deals of the customers the helpdesk's ticket events concern
    if helpdesk and not incremental and ticket_events:
        customers = deals_of_ticket_events(store, ticket_events)
    incremental = incremental or (helpdesk and customers is None)
    deal_ids = set() if incremental or helpdesk else deals_to_reconcile(store, instance, deal_events)
    if not incremental and not helpdesk and not deal_ids:  # changes that cannot start an onboarding
        store.inbox_mark_processed([item.id for item in events])
        return {"outcome": "nothing-new", "events": len(events)}
    try:
        if customers:
            deal_ids = _reconcile_customers(runtime, store, instance, customers, ticket_events, reports, budget)
        else:
            engine = Engine(runtime, store, ticket_sources=own_tickets, limiters=budget.limiters)
            lock = instance_lock(instance)
            if incremental:  # an incremental run reads every changed deal, those of the events too
                sources = [] if helpdesk else [instance]
                reports.append(reconcile(runtime, store, instances=sources, lock=lock, engine=engine))
            else:
                subset = {instance: sorted(deal_ids)}
                reports.append(reconcile(runtime, store, deal_ids=subset, lock=lock, engine=engine))
    except LockHeld:
        return {"outcome": "lock-held"}
    except OnboardSyncError as exc:
        log.error("reconcile of %s (%s) failed: %s", instance, trigger, exc)
        return {"outcome": "error", "error": str(exc)}
    errors = [f"{name}: {inst.error}" for r in reports for name, inst in r.instances.items() if inst.error]
    errors += [f"{name}: {t['error']}" for r in reports for name, t in r.ticket_sources.items() if t.get("error")]
    if errors:
        return {"outcome": "error", "error": "; ".join(errors), "run_ids": [r.run_id for r in reports]}
    store.inbox_mark_processed([item.id for item in events])
    totals = [r.totals() for r in reports]
    return {
        "outcome": "ok" if all(r.ok for r in reports) else "write-failures",
        "run_ids": [r.run_id for r in reports],
        "events": len(events),
        "deals": len(deal_ids),
        "created": sum(t.get("created", 0) for t in totals),
        "updated": sum(t.get("updated", 0) for t in totals),
        "failed": sum(t.get("failed", 0) for t in totals),
        "helpdesk_events": helpdesk and bool(events),
        "live": sorted(customers or ()),
        "more": len(events) >= CLAIM_BATCH,
        "finished_at": datetime.now(UTC).isoformat(),
    }


def _reconcile_customers(
    runtime: Runtime,
    store: Store,
    helpdesk: str,
    customers: dict[str, set[str]],
    ticket_events: list[tuple[str, InboundEvent]],
    reports: list[RunReport],
    budget: Budget,
) -> set[str]:
    """Reconcile the deals ``customers`` names, CRM instance by CRM instance under its run lock, with
    the tickets the helpdesk's events name read by id (by the first run; it stores them, so the
    next CRM's run finds them); return every deal reconciled."""
    from onboard_sync.sync.engine import Engine

    named: dict[str, list[str]] | None = {helpdesk: sorted({event.object_id for _, event in ticket_events})}
    for crm, deals in sorted(customers.items()):
        engine = Engine(runtime, store, ticket_sources={helpdesk}, limiters=budget.limiters)
        subset = {crm: sorted(deals)}
        lock = instance_lock(crm)
        reports.append(reconcile(runtime, store, deal_ids=subset, ticket_ids=named, lock=lock, engine=engine))
        named = None
    return {deal for deals in customers.values() for deal in deals}
