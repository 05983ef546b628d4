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
   those deals, anything else (other events, a tick) an incremental run of the instance, which
   also pulls the instance's own tickets (HubSpot tickets, Salesforce cases); a helpdesk that is
   no deal source (Zendesk) gets a ticket pull of its own;
4. marks the events processed only after their reconcile finished without error.

It returns a JSON-able outcome: ``{"outcome": ok | write-failures | nothing-new | lock-held |
error, ...}`` with counts, the run ids, whether helpdesk events were handled
(``helpdesk_events``: the deal sources should reconcile) and whether more events wait (``more``).
"""

from __future__ import annotations

import logging
import time
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from onboard_sync.connector import Capability
from onboard_sync.errors import LockHeld, OnboardSyncError
from onboard_sync.logs import log_reconcile
from onboard_sync.reconcile import instance_lock, reconcile

if TYPE_CHECKING:
    from onboard_sync.runtime import Runtime
    from onboard_sync.store import Store
    from onboard_sync.sync.report import RunReport

log = logging.getLogger("onboard_sync.durable")
CLAIM_BATCH = 1000


def run_trigger(runtime: Runtime, store: Store, instance: str, trigger: str, requested_at: datetime) -> dict[str, Any]:
    """Reconcile ``instance`` for one trigger (see the module docstring); return its outcome, and log
    its one INFO line (``logs.log_reconcile``, event ``engine.reconcile``)."""
    started = time.monotonic()
    reports: list[RunReport] = []
    result = _run_trigger(runtime, store, instance, trigger, requested_at, reports)
    report = reports[0] if len(reports) == 1 else None
    seconds = time.monotonic() - started
    log_reconcile(trigger, result["outcome"], seconds, report, result.get("deals"), instance=instance)
    return result


def _run_trigger(
    runtime: Runtime, store: Store, instance: str, trigger: str, requested_at: datetime, reports: list[RunReport]
) -> dict[str, Any]:
    from onboard_sync.inbound import InboundEvent

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
    deal_ids: set[str] = set()
    incremental = trigger != "webhook" or helpdesk
    for item in events:
        try:
            event = InboundEvent.from_payload(item.event_id, item.payload)
        except (ValueError, KeyError):
            incremental = True
            continue
        if event.kind == "deal" and not helpdesk:
            deal_ids.add(event.object_id)
        else:
            incremental = True
    lock = instance_lock(instance)
    try:
        if helpdesk:
            reports.append(reconcile(runtime, store, instances=[], ticket_sources=own_tickets, lock=lock))
        elif incremental:  # an incremental run reads every changed deal, those of the events too
            reports.append(reconcile(runtime, store, instances=[instance], ticket_sources=own_tickets, lock=lock))
        else:
            subset = {instance: sorted(deal_ids)}
            reports.append(reconcile(runtime, store, deal_ids=subset, ticket_sources=own_tickets, lock=lock))
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
        "more": len(events) >= CLAIM_BATCH,
        "finished_at": datetime.now(UTC).isoformat(),
    }
