"""The reconcile unit: the one function every runner of onboard-sync calls (DESIGN §12).

``reconcile(runtime, store, ...)`` holds a run lock of the store, runs the sync engine
(:class:`onboard_sync.sync.engine.Engine`) over connector instances and returns its
``RunReport``. It knows nothing of who called it or of any queue:

* ``onboard-sync sync`` (cron) reconciles every deal source under the ``"sync"`` lock;
* the embedded webhook worker of ``serve`` (``webhooks/worker.py``) reconciles named deals or
  every deal source under the same ``"sync"`` lock, so it never overlaps a cron ``sync``;
* the durable engine (``onboard-sync worker``, :mod:`onboard_sync.engine`) reconciles one
  instance at a time under :func:`instance_lock` ``(name)``: its queue already lets one worker
  at a time reconcile an instance; the lock (a Postgres advisory lock, a file lock on SQLite)
  is the second guard.

Arguments: ``instances`` (None: every deal source; a list, possibly empty, names them),
``deal_ids`` (``{instance: ids}``: only those deals, read by id, no cursor moves),
``ticket_sources`` (None: every ticket source is pulled; a collection names the ones to pull),
``full`` (ignore cursors), ``progress`` (the CLI's progress bar), ``lock`` (the run lock's
name, ``None`` for a caller that already holds one) and ``engine`` (a prepared engine: tests
and the webhook worker's factory). Raises ``LockHeld`` at once if another holder has the lock.

Both webhook runners choose the deals a batch of events names through :func:`deals_to_reconcile`,
which leaves out the changes that cannot start an onboarding on deals that have none, and the deals
a helpdesk's ticket events concern through :func:`deals_of_ticket_events`: a Zendesk
event-subscription envelope carries the ticket as it is now, its ``organization_id`` included
(``detail``); through the store's organization links (``account_links``, made by every run) that
names the CRM account, and through the onboardings the deals to re-score, which a webhook reconcile
then evaluates with the named tickets read by id, instead of an incremental run of every deal source.
When an event names no organization (a trigger body carries only ``ticket_id``) or one not linked to
an onboarding's account yet, the answer is None and the runner falls back to the incremental run.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from contextlib import nullcontext
from typing import TYPE_CHECKING

from onboard_sync.inbound import cannot_start_onboarding

if TYPE_CHECKING:
    from onboard_sync.inbound import InboundEvent
    from onboard_sync.runtime import Runtime
    from onboard_sync.store import Store
    from onboard_sync.sync.engine import Engine
    from onboard_sync.sync.report import RunReport

SYNC_LOCK = "sync"
"""The run lock of ``sync`` and of the embedded webhook worker (all instances at once)."""


def instance_lock(instance: str) -> str:
    """The run lock of one connector instance, held by the durable engine's reconciles."""
    return f"reconcile:{instance}"


def reconcile(
    runtime: Runtime,
    store: Store,
    *,
    instances: Sequence[str] | None = None,
    deal_ids: Mapping[str, Collection[str]] | None = None,
    ticket_ids: Mapping[str, Collection[str]] | None = None,
    ticket_sources: Collection[str] | None = None,
    full: bool = False,
    progress: Callable[[str, int, int | None], None] | None = None,
    lock: str | None = SYNC_LOCK,
    engine: Engine | None = None,
) -> RunReport:
    """Reconcile connector instances under the run lock ``lock``; return the run's report."""
    from onboard_sync.sync.engine import Engine

    runner = engine or Engine(runtime, store, progress=progress, full=full, ticket_sources=ticket_sources)
    with store.run_lock(lock) if lock is not None else nullcontext():
        return runner.run(instances, deal_ids=deal_ids, ticket_ids=ticket_ids)


def deals_to_reconcile(store: Store, source: str, events: Iterable[InboundEvent]) -> set[str]:
    """The deals of deal source ``source`` that its deal ``events`` name and a reconcile could change:
    every deal with a change that may make it won, and of the others (a change of a property that
    cannot, :func:`onboard_sync.inbound.cannot_start_onboarding`) those that have an onboarding."""
    named: set[str] = set()
    droppable: set[str] = set()
    for event in events:
        (droppable if cannot_start_onboarding(event) else named).add(event.object_id)
    droppable -= named
    if droppable:
        tracked = store.get_onboardings([f"{source}:{deal_id}" for deal_id in droppable])
        named |= {state.deal_id for state in tracked.values()}
    return named


def organization_of(event: InboundEvent) -> str | None:
    """The organization id an event's ticket belongs to, as the event tells it (None: it does not)."""
    detail = event.raw.get("detail")
    org = detail.get("organization_id") if isinstance(detail, dict) else None
    return str(org) if org not in (None, "") else None


def deals_of_ticket_events(store: Store, events: Iterable[tuple[str, InboundEvent]]) -> dict[str, set[str]] | None:
    """CRM instance → deal ids whose onboardings' accounts the events' organizations are linked to;
    None when one event's organization is unknown or not linked to such an account."""
    wanted: dict[str, set[str]] = defaultdict(set)  # helpdesk instance → organization ids
    for source, event in events:
        org = organization_of(event)
        if org is None:
            return None
        wanted[source].add(org)
    accounts: dict[str, set[str]] = defaultdict(set)  # CRM instance → account ids
    for source, orgs in wanted.items():
        linked = {x.remote_id: x for x in store.account_links(source) if x.remote_id in orgs and x.crm_account_id}
        if set(orgs) - set(linked):
            return None
        for link in linked.values():
            accounts[link.crm_source].add(str(link.crm_account_id))
    deals: dict[str, set[str]] = defaultdict(set)
    for crm, account_ids in accounts.items():
        found = {o.deal_id for o in store.onboardings(source=crm) if o.account_id in account_ids}
        if not found:
            return None
        deals[crm] |= found
    return dict(deals)
