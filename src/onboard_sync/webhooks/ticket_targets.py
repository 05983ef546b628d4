"""Which customers a helpdesk's ticket webhooks concern, so that ``serve`` reconciles only them.

A Zendesk event-subscription envelope carries the ticket as it is now, its ``organization_id``
included (``detail``). Through the store's organization links (``account_links``, made by every
run) that names the CRM account, and through the onboardings the deals to re-score: the worker
then runs a webhook reconcile of those deals, which reads the named tickets by id and evaluates
only them, instead of an incremental run of every deal source (a search of each CRM, the tasks
of the look-back window, the mapping check). When an event names no organization (a trigger body
carries only ``ticket_id``) or one not linked to an onboarding's account yet, the answer is None
and the worker runs the incremental reconcile as before. Used by :mod:`onboard_sync.webhooks.worker`.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from onboard_sync.inbound import InboundEvent
from onboard_sync.store import Store


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
